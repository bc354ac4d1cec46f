//! The two tiers of a vault and the multisig wallet each one is.

use std::fmt;
use std::str::FromStr;

use bitcoin::{Network, NetworkKind};
use serde::{Deserialize, Serialize};

use super::ids::KeyId;

/// Cold (most funds, large quorum) or hot (day-to-day payouts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// The cold wallet.
    Cold,
    /// The hot wallet.
    Hot,
}

impl Tier {
    /// Both tiers, cold first.
    pub const ALL: [Tier; 2] = [Tier::Cold, Tier::Hot];

    /// `"cold"` or `"hot"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Cold => "cold",
            Tier::Hot => "hot",
        }
    }

    /// The other tier.
    pub fn other(self) -> Tier {
        match self {
            Tier::Cold => Tier::Hot,
            Tier::Hot => Tier::Cold,
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that names no tier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown tier `{0}`; use cold or hot")]
pub struct UnknownTier(pub String);

impl FromStr for Tier {
    type Err = UnknownTier;
    fn from_str(s: &str) -> Result<Self, UnknownTier> {
        match s {
            "cold" => Ok(Tier::Cold),
            "hot" => Ok(Tier::Hot),
            other => Err(UnknownTier(other.to_owned())),
        }
    }
}

/// The output script a wallet uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScriptKind {
    /// P2WSH with `sortedmulti`.
    Wsh,
    /// P2TR with an unspendable internal key and `multi_a` leaves.
    Tr,
}

impl ScriptKind {
    /// `"wsh"` or `"tr"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptKind::Wsh => "wsh",
            ScriptKind::Tr => "tr",
        }
    }

    /// The BIP-48 script-type step of an account path: 2' for P2WSH. BIP-48
    /// defines no taproot type; 3' is what several multisig coordinators use.
    pub fn bip48_script_type(self) -> u32 {
        match self {
            ScriptKind::Wsh => 2,
            ScriptKind::Tr => 3,
        }
    }

    /// Largest number of keys a multisig of this kind may list. P2WSH
    /// `CHECKMULTISIG` allows 20; `multi_a` is bounded by the same policy limit
    /// in Bitcoin Core's descriptor parser (999), far beyond practical vaults.
    pub fn max_keys(self) -> usize {
        match self {
            ScriptKind::Wsh => 20,
            ScriptKind::Tr => 999,
        }
    }
}

impl fmt::Display for ScriptKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A timelocked path that lets a smaller quorum spend after funds have not
/// moved for `after_blocks` blocks, for when keys are lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryPath {
    pub(crate) after_blocks: u16,
    pub(crate) threshold: usize,
    pub(crate) keys: Vec<KeyId>,
}

impl RecoveryPath {
    /// Relative timelock in blocks.
    pub fn after_blocks(&self) -> u16 {
        self.after_blocks
    }
    /// Signatures needed.
    pub fn threshold(&self) -> usize {
        self.threshold
    }
    /// Keys usable on this path, sorted by id.
    pub fn keys(&self) -> &[KeyId] {
        &self.keys
    }
}

/// The multisig of one tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletPolicy {
    pub(crate) tier: Tier,
    pub(crate) threshold: usize,
    pub(crate) keys: Vec<KeyId>,
    pub(crate) script: ScriptKind,
    pub(crate) recovery: Option<RecoveryPath>,
}

impl WalletPolicy {
    /// Which tier this is.
    pub fn tier(&self) -> Tier {
        self.tier
    }
    /// Signatures needed on the main path.
    pub fn threshold(&self) -> usize {
        self.threshold
    }
    /// Keys of the main path, sorted by id.
    pub fn keys(&self) -> &[KeyId] {
        &self.keys
    }
    /// Script kind.
    pub fn script(&self) -> ScriptKind {
        self.script
    }
    /// The optional recovery path.
    pub fn recovery(&self) -> Option<&RecoveryPath> {
        self.recovery.as_ref()
    }
    /// Whether `key` can sign for this wallet on any path.
    pub fn uses_key(&self, key: &KeyId) -> bool {
        self.keys.contains(key) || self.recovery.as_ref().is_some_and(|r| r.keys.contains(key))
    }
}

/// The BIP-44/48 coin type step of an account path: 0' for bitcoin, 1' for
/// every test network.
pub fn bip48_coin_type(network: Network) -> u32 {
    match NetworkKind::from(network) {
        NetworkKind::Main => 0,
        NetworkKind::Test => 1,
    }
}

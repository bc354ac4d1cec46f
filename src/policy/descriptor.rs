//! Output descriptors compiled from a wallet policy with miniscript.
//!
//! - `wsh`: `wsh(sortedmulti(k, K1/<0;1>/*, ...))`
//! - `tr`: `tr(NUMS, multi_a(k, K1/<0;1>/*, ...))`; miniscript 12 has no
//!   `sortedmulti_a`, so keys are listed in key-id order, which the policy fixes.
//! - recovery: `wsh(or_d(multi(k,...),and_v(v:multi(r,...),older(N))))` or a
//!   second tapleaf `and_v(v:multi_a(r,...),older(N))`. Recovery keys derive on
//!   chains `<2;3>` so a key that is on both paths appears as two distinct keys,
//!   which miniscript requires.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use bitcoin::{Address, Network, ScriptBuf};
use miniscript::descriptor::{DefiniteDescriptorKey, Descriptor, DescriptorPublicKey};

use super::error::Problem;
use super::ids::KeyId;
use super::keys::VaultKey;
use super::wallet::{ScriptKind, Tier, WalletPolicy};

/// BIP-341's provably unspendable point H (no one knows its private key), used
/// as the taproot internal key so that only the script paths can spend.
pub const NUMS_INTERNAL_KEY: &str =
    "50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0";

/// Derivation chains of the main path (receive, change).
pub const MAIN_CHAINS: [u32; 2] = [0, 1];
/// Derivation chains of the recovery path (receive, change).
pub const RECOVERY_CHAINS: [u32; 2] = [2, 3];

/// Receive or change addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Chain {
    /// `/0/*`: addresses handed out to receive funds.
    Receive,
    /// `/1/*`: change back to the same wallet.
    Change,
}

impl Chain {
    /// 0 for receive, 1 for change.
    pub fn index(self) -> u32 {
        match self {
            Chain::Receive => 0,
            Chain::Change => 1,
        }
    }

    /// The chain for a derivation step of the main path, if it is one.
    pub fn from_main_step(step: u32) -> Option<Chain> {
        match step {
            0 => Some(Chain::Receive),
            1 => Some(Chain::Change),
            _ => None,
        }
    }
}

/// The validated, compiled descriptor of one tier's wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletDescriptor {
    tier: Tier,
    multipath: Descriptor<DescriptorPublicKey>,
    receive: Descriptor<DescriptorPublicKey>,
    change: Descriptor<DescriptorPublicKey>,
}

impl WalletDescriptor {
    /// Builds the descriptor of `wallet` from the policy's keys.
    pub(crate) fn compile(
        wallet: &WalletPolicy,
        keys: &BTreeMap<KeyId, VaultKey>,
    ) -> Result<Self, Problem> {
        let list = |ids: &[KeyId], chains: [u32; 2]| -> String {
            ids.iter()
                .map(|id| keys[id].xpub().multipath_key(chains).to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let main = list(wallet.keys(), MAIN_CHAINS);
        let k = wallet.threshold();
        let text = match (wallet.script(), wallet.recovery()) {
            (ScriptKind::Wsh, None) => format!("wsh(sortedmulti({k},{main}))"),
            (ScriptKind::Tr, None) => format!("tr({NUMS_INTERNAL_KEY},multi_a({k},{main}))"),
            (ScriptKind::Wsh, Some(r)) => format!(
                "wsh(or_d(multi({k},{main}),and_v(v:multi({},{}),older({}))))",
                r.threshold(),
                list(r.keys(), RECOVERY_CHAINS),
                r.after_blocks()
            ),
            (ScriptKind::Tr, Some(r)) => format!(
                "tr({NUMS_INTERNAL_KEY},{{multi_a({k},{main}),and_v(v:multi_a({},{}),older({}))}})",
                r.threshold(),
                list(r.keys(), RECOVERY_CHAINS),
                r.after_blocks()
            ),
        };
        let multipath = Descriptor::<DescriptorPublicKey>::from_str(&text)
            .map_err(|e| Problem::Descriptor(e.to_string()))?;
        multipath
            .sanity_check()
            .map_err(|e| Problem::Descriptor(e.to_string()))?;
        let mut singles = multipath
            .clone()
            .into_single_descriptors()
            .map_err(|e| Problem::Descriptor(e.to_string()))?;
        if singles.len() != 2 {
            return Err(Problem::Descriptor(format!(
                "expected a receive and a change descriptor, got {}",
                singles.len()
            )));
        }
        let change = singles.pop().expect("two descriptors");
        let receive = singles.pop().expect("two descriptors");
        Ok(WalletDescriptor {
            tier: wallet.tier(),
            multipath,
            receive,
            change,
        })
    }

    /// The tier this descriptor belongs to.
    pub fn tier(&self) -> Tier {
        self.tier
    }

    /// The multipath descriptor `.../<0;1>/*`, as Bitcoin Core and Sparrow import it.
    pub fn multipath(&self) -> &Descriptor<DescriptorPublicKey> {
        &self.multipath
    }

    /// The single-path descriptor of one chain.
    pub fn chain(&self, chain: Chain) -> &Descriptor<DescriptorPublicKey> {
        match chain {
            Chain::Receive => &self.receive,
            Chain::Change => &self.change,
        }
    }

    /// The descriptor at one (chain, index).
    pub fn at(&self, chain: Chain, index: u32) -> Descriptor<DefiniteDescriptorKey> {
        self.chain(chain)
            .at_derivation_index(index)
            .expect("validated descriptors have wildcards and no hardened steps")
    }

    /// The output script at one (chain, index).
    pub fn script_pubkey(&self, chain: Chain, index: u32) -> ScriptBuf {
        self.at(chain, index).script_pubkey()
    }

    /// The output scripts at `indexes` of one chain, in order: the same as
    /// [`WalletDescriptor::script_pubkey`] at each, derived many times
    /// faster ([`super::scripts`]).
    pub fn script_pubkeys(&self, chain: Chain, indexes: std::ops::Range<u32>) -> Vec<ScriptBuf> {
        super::scripts::scripts(self.chain(chain), indexes)
    }

    /// The address at one (chain, index).
    pub fn address(&self, chain: Chain, index: u32, network: Network) -> Address {
        self.at(chain, index)
            .address(network)
            .expect("wsh and tr descriptors always have an address")
    }
}

impl fmt::Display for WalletDescriptor {
    /// The multipath descriptor with its checksum.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.multipath)
    }
}

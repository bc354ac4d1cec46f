//! Errors of reading and validating a vault policy. Each names the field and
//! says how to fix it.

use std::path::PathBuf;

use bitcoin::address::NetworkUnchecked;
use bitcoin::bip32::Fingerprint;
use bitcoin::{Address, Amount, Network, NetworkKind};

use super::ids::{ApproverId, BadId, KeyId};
use super::wallet::ScriptKind;
use crate::error::{Classify, ExitCode};

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read policy file {path}: {source}; check the path and permissions")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Not valid TOML, or a field unknown to the policy format.
    #[error("malformed policy TOML: {0}\nfix the line shown; docs/policy.md lists every field")]
    Syntax(String),
    /// A field holds a value the policy cannot accept.
    #[error("policy field `{field}`: {problem}")]
    Invalid {
        /// Dotted path of the field, e.g. `wallets.cold.threshold`.
        field: String,
        /// What is wrong and what to do.
        problem: Problem,
    },
}

impl PolicyError {
    pub(crate) fn invalid(field: impl Into<String>, problem: Problem) -> Self {
        PolicyError::Invalid {
            field: field.into(),
            problem,
        }
    }

    /// The specific problem, when the policy parsed but is invalid.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            PolicyError::Invalid { problem, .. } => Some(problem),
            _ => None,
        }
    }
}

impl Classify for PolicyError {
    fn exit_code(&self) -> ExitCode {
        match self {
            PolicyError::Read { source, .. } if source.kind() != std::io::ErrorKind::NotFound => {
                ExitCode::NodeOrIo
            }
            _ => ExitCode::BadInput,
        }
    }
}

/// How an xpub's network is named to people: an xpub says only main or test.
fn network_kind(kind: NetworkKind) -> &'static str {
    match kind {
        NetworkKind::Main => "mainnet",
        NetworkKind::Test => "a test network",
    }
}

/// What is wrong with a policy field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// An identifier is empty or has characters outside `[A-Za-z0-9._-]`.
    #[error(transparent)]
    BadId(#[from] BadId),
    /// Text that must not be empty is empty.
    #[error("must not be empty")]
    Empty,
    /// Network name not known.
    #[error("unknown network `{0}`; use bitcoin, testnet, testnet4, signet or regtest")]
    UnknownNetwork(String),
    /// A wallet or recovery path names a key id that has no `[[keys]]` entry.
    #[error("unknown key id `{0}`; add a [[keys]] entry with this id or fix the spelling")]
    UnknownKey(KeyId),
    /// A key's `signer` is neither `custodia` nor `device`.
    #[error("unknown signer `{0}`; use custodia (the default) or device")]
    UnknownSigner(String),
    /// Two `[[keys]]` entries share an id.
    #[error("duplicate key id `{0}`; give every key its own id")]
    DuplicateKeyId(KeyId),
    /// Two `[[keys]]` entries share an xpub.
    #[error(
        "the same xpub is listed as `{0}` and `{1}`; each key holder needs a key of their own"
    )]
    DuplicateXpub(KeyId, KeyId),
    /// The origin's coin type (its second step) does not fit the network.
    #[error("the key origin's coin type is {found}, but a {network} vault needs {expected}' (0' for bitcoin, 1' for every test network) as the second step, e.g. [fingerprint/48'/{expected}'/0'/2']; use a key derived for this network")]
    CoinType {
        /// The vault network.
        network: Network,
        /// The coin type expected.
        expected: u32,
        /// What the origin has there (`missing` if the origin is too short).
        found: String,
    },
    /// Two keys of one wallet come from one seed.
    #[error("keys `{0}` and `{1}` come from one seed (master fingerprint {2}): one key holder would give two signatures of this wallet; give each key to a different seed")]
    SharedSeedInWallet(KeyId, KeyId, Fingerprint),
    /// A key appears twice in one wallet.
    #[error("key `{0}` is listed twice; list each key once")]
    DuplicateKeyInWallet(KeyId),
    /// The xpub text does not parse.
    #[error("not an extended public key with origin ({0}); write it as \"[fingerprint/48'/1'/0'/2']tpub...\" as printed by `custodia-signer xpub`")]
    BadXpub(String),
    /// The xpub has no `[fingerprint/path]` origin.
    #[error("the xpub has no key origin; write it as \"[fingerprint/48'/1'/0'/2']tpub...\" so signers can find their key")]
    MissingOrigin,
    /// The xpub carries a derivation suffix or wildcard.
    #[error("write the account xpub without a derivation suffix; custodia adds /<0;1>/* itself")]
    XpubWithSuffix,
    /// The xpub is for another network.
    #[error(
        "xpub is for {}, but the vault network is {expected}; use a key made for {expected}", network_kind(*.found)
    )]
    XpubNetwork {
        /// The vault network.
        expected: Network,
        /// The kind of network the xpub was made for.
        found: NetworkKind,
    },
    /// The same key is used by the cold and the hot wallet.
    #[error(
        "key `{0}` is in both the cold and the hot wallet; cold and hot keys must be separate"
    )]
    KeyInBothTiers(KeyId),
    /// A key is listed but no wallet uses it.
    #[error("key `{0}` is not used by any wallet; add it to a wallet or remove it")]
    UnusedKey(KeyId),
    /// Threshold is zero or negative.
    #[error("threshold must be at least 1")]
    ThresholdTooLow,
    /// Threshold larger than the number of keys.
    #[error("threshold {threshold} is more than the {keys} keys listed; lower the threshold or add keys")]
    ThresholdTooHigh {
        /// Asked threshold.
        threshold: i64,
        /// Keys listed.
        keys: usize,
    },
    /// More keys than the script type allows.
    #[error("{keys} keys is more than {max}, the most a `{script}` multisig allows")]
    TooManyKeys {
        /// Keys listed.
        keys: usize,
        /// Script limit.
        max: usize,
        /// Script type.
        script: ScriptKind,
    },
    /// Script type not known.
    #[error("unknown script `{0}`; use \"wsh\" (sortedmulti) or \"tr\" (multi_a behind an unspendable key)")]
    UnknownScript(String),
    /// Recovery path without a timelock.
    #[error("a recovery path needs a timelock; set after_blocks (1 to 65535 blocks)")]
    RecoveryWithoutTimelock,
    /// Timelock out of range.
    #[error("after_blocks = {0} is out of range; use 1 to 65535 blocks (BIP-68)")]
    TimelockOutOfRange(i64),
    /// A recovery key belongs to the other tier.
    #[error("recovery key `{0}` belongs to the other tier's wallet; use keys of this tier or dedicated recovery keys")]
    RecoveryKeyOfOtherTier(KeyId),
    /// The descriptor could not be built.
    #[error("cannot build the descriptor: {0}")]
    Descriptor(String),
    /// Two approvers share an id.
    #[error("duplicate approver id `{0}`; give every approver their own id")]
    DuplicateApprover(ApproverId),
    /// Two approvers share a key.
    #[error(
        "approvers `{0}` and `{1}` share a public key; each approver needs a key of their own"
    )]
    DuplicateApproverKey(ApproverId, ApproverId),
    /// The approver key does not parse.
    #[error("not a BIP-340 x-only public key ({0}); paste the 64 hex characters printed by `custodia-signer approver init`")]
    BadApproverKey(String),
    /// The approval quorum cannot be met with the approvers listed.
    #[error("{0}")]
    QuorumImpossible(String),
    /// An amount or fee rate does not parse.
    #[error("{0}")]
    BadAmount(#[from] super::units::UnitError),
    /// A single-movement cap above the daily cap.
    #[error("max_amount {max} is above daily_limit {daily}; a single movement cannot exceed the daily limit")]
    MaxAboveDaily {
        /// Per-movement cap.
        max: Amount,
        /// Daily cap.
        daily: Amount,
    },
    /// An allowlisted address does not parse.
    #[error("`{0}` is not a bitcoin address ({1})")]
    BadAddress(String, bitcoin::address::ParseError),
    /// An allowlisted address is for another network.
    #[error("address `{}` is not valid on {network}; allowlist only addresses of the vault's network", .address.assume_checked_ref())]
    AddressNetwork {
        /// The address.
        address: Address<NetworkUnchecked>,
        /// The vault network.
        network: Network,
    },
    /// The same address is allowlisted twice.
    #[error("address `{0}` is listed twice")]
    DuplicateAddress(Address),
    /// Both an allowlist and allow_any.
    #[error("set either an allowlist or allow_any = true, not both")]
    AllowlistAndAllowAny,
    /// An address range outside what the programs can watch.
    #[error("{0} is out of range; use 0 to 100000 (default 1000): every program derives every address up to it")]
    MaxIndexOutOfRange(i64),
    /// A waiting time outside what the programs accept.
    #[error("{0} blocks is out of range; use 0 to 52560 (about a year)")]
    WaitOutOfRange(i64),
    /// A percentage outside 0..=100.
    #[error("{0} is not a percentage; use 0 to 100")]
    PercentOutOfRange(i64),
    /// Hot target above what the cold minimum leaves.
    #[error("hot_target_percent {target} leaves less than cold_min_percent {cold_min} cold; lower the target")]
    HotTargetTooHigh {
        /// Hot target.
        target: i64,
        /// Cold minimum.
        cold_min: i64,
    },
}

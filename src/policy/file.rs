//! The policy file as written in TOML, before validation. Every section refuses
//! unknown fields, so a typo such as `treshold` is an error, not a silent default.
//!
//! Numbers are kept as `i64` and amounts as text here so that validation can
//! name the field and say what is wrong with its value.

use serde::{Deserialize, Serialize};

/// The whole policy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// `[vault]`: name and network.
    pub vault: VaultSection,
    /// `[[keys]]`: one per key holder.
    pub keys: Vec<KeySection>,
    /// `[wallets.cold]` and `[wallets.hot]`.
    pub wallets: WalletsSection,
    /// `[[approvers]]`: department approval keys.
    #[serde(default)]
    pub approvers: Vec<ApproverSection>,
    /// `[rules.*]`.
    pub rules: RulesSection,
}

/// `[vault]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultSection {
    /// Name of the vault, shown everywhere and bound into approvals.
    pub name: String,
    /// `bitcoin` (or `mainnet`), `testnet`, `testnet4`, `signet` or `regtest`.
    pub network: String,
}

/// One `[[keys]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySection {
    /// Short id the wallets refer to, e.g. `cold-1`.
    pub id: String,
    /// Department of the key holder.
    pub holder: String,
    /// Where the key is kept.
    pub location: String,
    /// Account xpub with key origin: `[fingerprint/48'/1'/0'/2']tpub...`.
    pub xpub: String,
    /// `custodia` (the default, left out of the canonical form) or
    /// `device`: a hardware wallet that knows none of the policy's rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
}

/// `[wallets]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalletsSection {
    /// The cold tier.
    pub cold: WalletSection,
    /// The hot tier.
    pub hot: WalletSection,
}

/// `[wallets.cold]` or `[wallets.hot]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalletSection {
    /// Signatures needed.
    pub threshold: i64,
    /// Key ids of the signers.
    pub keys: Vec<String>,
    /// `wsh` or `tr`.
    pub script: String,
    /// Optional timelocked recovery path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoverySection>,
}

/// `recovery = { after_blocks = N, threshold = k, keys = [...] }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverySection {
    /// Relative timelock in blocks (BIP-68), required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_blocks: Option<i64>,
    /// Signatures needed on the recovery path.
    pub threshold: i64,
    /// Key ids usable on the recovery path.
    pub keys: Vec<String>,
}

/// One `[[approvers]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproverSection {
    /// Approver id, bound into every approval signature.
    pub id: String,
    /// Department, counted for `min_departments`.
    pub department: String,
    /// BIP-340 x-only public key, 64 hex characters.
    pub pubkey: String,
}

/// `[rules]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesSection {
    /// `[rules.cold_to_hot]`.
    pub cold_to_hot: ColdToHotSection,
    /// `[rules.payouts]`.
    pub payouts: PayoutsSection,
    /// `[rules.fees]`.
    pub fees: FeesSection,
    /// `[rules.ratio]`.
    pub ratio: RatioSection,
    /// `[rules.addresses]`: optional; the canonical form always carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses: Option<AddressesSection>,
    /// `[rules.policy_change]`: optional; without it changes are not governed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_change: Option<PolicyChangeSection>,
}

/// `[rules.policy_change]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyChangeSection {
    /// Distinct approvers needed for a successor policy.
    pub min_approvals: i64,
    /// Distinct departments among them.
    pub min_departments: i64,
    /// Blocks the coordinator waits after announcing a change.
    pub wait_blocks: i64,
}

/// `[rules.cold_to_hot]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColdToHotSection {
    /// Distinct approvers needed.
    pub min_approvals: i64,
    /// Distinct departments among them.
    pub min_departments: i64,
    /// Largest single movement.
    pub max_amount: String,
    /// Largest total in any 24 hours.
    pub daily_limit: String,
}

/// `[rules.payouts]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutsSection {
    /// Addresses the hot wallet may pay.
    #[serde(default)]
    pub allowlist: Vec<String>,
    /// Pay any address (each payout still capped by `max_amount`).
    #[serde(default)]
    pub allow_any: bool,
    /// Largest single payout.
    pub max_amount: String,
    /// Largest total in any 24 hours.
    pub daily_limit: String,
}

/// `[rules.fees]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeesSection {
    /// Highest fee rate, e.g. `"200 sat/vB"`.
    pub max_feerate: String,
    /// Highest absolute fee.
    pub max_fee: String,
}

/// `[rules.ratio]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatioSection {
    /// Smallest share of all vault funds that must stay cold, in percent.
    pub cold_min_percent: i64,
    /// Share of funds a rebalance aims to keep hot; defaults to half of what the
    /// cold minimum leaves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hot_target_percent: Option<i64>,
}

/// `[rules.addresses]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressesSection {
    /// Highest address index (receive and change) the vault ever uses.
    pub max_index: i64,
}

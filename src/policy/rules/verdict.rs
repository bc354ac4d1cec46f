//! The names of the rules and the judgement of one rule: what every check
//! returns, whichever program calls it.

use serde::Serialize;

/// Names of the rules, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleId {
    /// The PSBT names the policy it is reviewed against.
    PolicyId,
    /// Nothing in the PSBT belongs to another network.
    Network,
    /// Every input re-derives to a wallet of the policy.
    InputsFromVault,
    /// All inputs come from one wallet.
    OneWallet,
    /// Previous outputs are proven (full previous transactions for segwit v0).
    PreviousOutputs,
    /// Only SIGHASH_ALL / DEFAULT.
    Sighash,
    /// Taproot inputs use the policy's unspendable internal key and tree.
    Taproot,
    /// No output falsely claims to be in the vault.
    OutputClaims,
    /// Every vault input and output lies within the policy's address range.
    AddressRange,
    /// Cold pays no outside address; hot pays only allowlisted ones.
    Destinations,
    /// Amount limits per transaction.
    Amount,
    /// Daily limits over a rolling 24 hours, from the signer's own log.
    DailyLimit,
    /// Absolute fee cap.
    Fee,
    /// Fee rate cap.
    FeeRate,
    /// Cold→hot approvals quorum.
    Approvals,
    /// No output is zero, dust or beyond the money supply; amounts add up
    /// without overflow.
    OutputValues,
    /// nLockTime is 0 or a block height, never a date.
    LockTime,
    /// No input's nSequence sets a BIP-68 relative lock.
    RelativeLock,
}

impl RuleId {
    /// Every rule, in report order.
    pub const ALL: [RuleId; 18] = [
        RuleId::PolicyId,
        RuleId::Network,
        RuleId::InputsFromVault,
        RuleId::OneWallet,
        RuleId::PreviousOutputs,
        RuleId::Sighash,
        RuleId::Taproot,
        RuleId::OutputClaims,
        RuleId::AddressRange,
        RuleId::Destinations,
        RuleId::Amount,
        RuleId::DailyLimit,
        RuleId::Fee,
        RuleId::FeeRate,
        RuleId::Approvals,
        RuleId::OutputValues,
        RuleId::LockTime,
        RuleId::RelativeLock,
    ];

    /// Machine name, e.g. `daily-limit`.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::PolicyId => "policy-id",
            RuleId::Network => "network",
            RuleId::InputsFromVault => "inputs-from-vault",
            RuleId::OneWallet => "one-wallet",
            RuleId::PreviousOutputs => "previous-outputs",
            RuleId::Sighash => "sighash",
            RuleId::Taproot => "taproot",
            RuleId::OutputClaims => "output-claims",
            RuleId::AddressRange => "address-range",
            RuleId::Destinations => "destinations",
            RuleId::Amount => "amount",
            RuleId::DailyLimit => "daily-limit",
            RuleId::Fee => "fee",
            RuleId::FeeRate => "fee-rate",
            RuleId::Approvals => "approvals",
            RuleId::OutputValues => "output-values",
            RuleId::LockTime => "lock-time",
            RuleId::RelativeLock => "relative-lock",
        }
    }
}

/// The judgement of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleCheck {
    /// Which rule.
    pub rule: RuleId,
    /// Whether it holds.
    pub passed: bool,
    /// Why, in words.
    pub reason: String,
}

/// The judgement of `rule`, with its reason.
pub(crate) fn judge(rule: RuleId, passed: bool, reason: impl Into<String>) -> RuleCheck {
    RuleCheck {
        rule,
        passed,
        reason: reason.into(),
    }
}

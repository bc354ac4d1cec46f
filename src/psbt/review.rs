//! The review of a PSBT against a vault policy: every input and output
//! classified, the movement, fee, approvals, and each rule's judgement.
//! The signer signs only a PSBT whose review passes every rule, and checks
//! that what it signs is byte for byte what was reviewed.

use bitcoin::{Amount, SignedAmount, Txid};
use serde::Serialize;

use super::approvals::ApprovalStatus;
use super::classify::{InputReview, OutputReview};
use super::daily::DailySpending;
use super::proof::ProofMessage;
use crate::policy::rules::Movement;
use crate::policy::rules::{RuleCheck, RuleId};
use crate::policy::{PolicyId, Tier};

/// The review of one PSBT against one policy: facts and every rule's
/// judgement, read-only. Signing and approving take the
/// [`SignablePsbt`](super::SignablePsbt) or [`ApprovablePsbt`](super::ApprovablePsbt)
/// a passing review turns into, never a `Review`.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    /// The vault's name.
    pub(super) vault: String,
    /// The auditor's message, if this is a proof of control.
    #[serde(rename = "proof_message", skip_serializing_if = "Option::is_none")]
    pub(super) proof: Option<ProofMessage>,
    /// The vault's network.
    pub(super) network: String,
    /// The id of the policy reviewed against.
    pub(super) policy_id: PolicyId,
    /// The policy id the PSBT names, if any.
    pub(super) psbt_policy_id: Option<String>,
    /// The unsigned transaction's id (what approvals sign).
    pub(super) txid: Txid,
    /// The wallet every input comes from, if they all come from one.
    pub(super) source: Option<Tier>,
    /// The kind of movement, if the source is one wallet.
    pub(super) movement: Option<Movement>,
    /// What the movement moves, in sat: for payouts the sum paid outside, for
    /// transfers the sum paid to the other tier, for consolidations zero.
    /// Summed with checked arithmetic: when those outputs add up to more
    /// than the 21 million bitcoin that exist (or overflow), it holds that
    /// maximum and the `output-values` rule refuses the transaction.
    pub(super) moved_sat: u64,
    /// Inputs.
    pub(super) inputs: Vec<InputReview>,
    /// Outputs.
    pub(super) outputs: Vec<OutputReview>,
    /// Sum of proven input amounts, if every input is proven.
    pub(super) input_total_sat: Option<u64>,
    /// Sum of outputs, unless it overflows or exceeds the 21 million bitcoin
    /// that exist (then `output-values` refuses).
    pub(super) output_total_sat: Option<u64>,
    /// Fee (may be negative for a broken PSBT), if every input is proven and
    /// the sums are valid.
    pub(super) fee_sat: Option<i64>,
    /// Largest virtual size of the signed transaction.
    pub(super) vsize: u64,
    /// The transaction's nLockTime: 0 for none, below 500,000,000 a block
    /// height, from there on a date (Unix time).
    pub(super) lock_time: u32,
    /// Approvals, checked for `movement`.
    pub(super) approvals: Option<ApprovalStatus>,
    /// What was moved in the 24 hours before, for the daily limits.
    pub(super) spending: DailySpending,
    /// Every input waits the source wallet's recovery timelock exactly
    /// (nSequence = its `after_blocks`): a spend on the recovery path.
    pub(super) recovery: bool,
    /// Every rule's judgement.
    pub(super) rules: Vec<RuleCheck>,
    /// Whether every rule holds: a signer would sign.
    pub(super) would_sign: bool,
    /// The signer's address key table of the policy was set aside: a
    /// record read from it was not what the policy derives (a damaged or
    /// altered file). Every input was then derived from the policy, so the
    /// review stands; `register` makes the table again.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(super) address_keys_set_aside: bool,
}

impl Review {
    /// Whether every rule holds: a signer would sign.
    pub fn passes(&self) -> bool {
        self.would_sign
    }

    /// Whether every rule other than `except` holds (an approver approves a
    /// transfer that lacks only approvals).
    pub fn passes_except(&self, except: RuleId) -> bool {
        self.rules.iter().all(|r| r.passed || r.rule == except)
    }

    /// The rules that fail.
    pub fn failures(&self) -> impl Iterator<Item = &RuleCheck> {
        self.rules.iter().filter(|r| !r.passed)
    }

    /// Every rule's judgement, in report order.
    pub fn rules(&self) -> &[RuleCheck] {
        &self.rules
    }

    /// The judgement of `rule` (every rule is judged; `None` only for a
    /// rule this version does not know).
    pub fn check(&self, rule: RuleId) -> Option<&RuleCheck> {
        self.rules.iter().find(|c| c.rule == rule)
    }

    /// The auditor's challenge message, if this is a proof of control.
    pub fn proof_message(&self) -> Option<&ProofMessage> {
        self.proof.as_ref()
    }

    /// The vault's name.
    pub fn vault(&self) -> &str {
        &self.vault
    }

    /// The id of the policy reviewed against.
    pub fn policy_id(&self) -> PolicyId {
        self.policy_id
    }

    /// The unsigned transaction's id (what approvals sign).
    pub fn txid(&self) -> Txid {
        self.txid
    }

    /// The wallet every input comes from, if they all come from one.
    pub fn source(&self) -> Option<Tier> {
        self.source
    }

    /// The kind of movement, if the source is one wallet.
    pub fn movement(&self) -> Option<Movement> {
        self.movement
    }

    /// What the movement moves: for payouts what is paid outside, for
    /// transfers what is paid to the other tier, for consolidations zero.
    pub fn moved(&self) -> Amount {
        Amount::from_sat(self.moved_sat)
    }

    /// Every input, re-derived.
    pub fn inputs(&self) -> &[InputReview] {
        &self.inputs
    }

    /// Every output, re-derived.
    pub fn outputs(&self) -> &[OutputReview] {
        &self.outputs
    }

    /// The fee, if every input is proven (negative for a broken PSBT).
    pub fn fee(&self) -> Option<SignedAmount> {
        self.fee_sat.map(SignedAmount::from_sat)
    }

    /// The transaction's nLockTime (0 none, below 500,000,000 a block height).
    pub fn lock_time(&self) -> u32 {
        self.lock_time
    }

    /// Largest virtual size of the signed transaction.
    pub fn vsize(&self) -> u64 {
        self.vsize
    }

    /// Whether this spends on the source wallet's recovery path (every
    /// input's nSequence is exactly its timelock).
    pub fn recovery(&self) -> bool {
        self.recovery
    }

    /// Approvals, checked for the movement.
    pub fn approvals(&self) -> Option<&ApprovalStatus> {
        self.approvals.as_ref()
    }

    /// What was moved in the 24 hours before, as the review counted it.
    pub fn spending(&self) -> &DailySpending {
        &self.spending
    }
}

pub use crate::policy::btc;

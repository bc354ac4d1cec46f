//! The review of a PSBT against a vault policy: every input and output
//! classified, the movement, fee, approvals, and each rule's judgement.
//! The signer signs only a PSBT whose review passes every rule, and checks
//! that what it signs is byte for byte what was reviewed.

use std::fmt::Write as _;

use bitcoin::{Amount, Psbt, SignedAmount, Txid, Weight};
use serde::Serialize;

use super::anomalies::{checked_total, moved_text, timelock_lines};
use super::approvals::{approval_status, ApprovalStatus, Verdict};
use super::classify::{
    review_inputs, review_outputs, Deriver, Destination, InputReview, OutputReview,
};
use super::daily::DailySpending;
use super::fields::{policy_tag, PolicyTag};
use super::judge::{daily as daily_rule, evaluate};
use crate::policy::rules::Movement;
use crate::policy::rules::{RuleCheck, RuleId};
use crate::policy::{PolicyId, Tier, VaultPolicy};

/// The review of one PSBT against one policy: facts and every rule's
/// judgement, read-only. Signing and approving take the
/// [`SignablePsbt`](super::SignablePsbt) or [`ApprovablePsbt`](super::ApprovablePsbt)
/// a passing review turns into, never a `Review`.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    /// The vault's name.
    pub(super) vault: String,
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
    /// Every rule's judgement.
    pub(super) rules: Vec<RuleCheck>,
    /// Whether every rule holds: a signer would sign.
    pub(super) would_sign: bool,
}

impl Review {
    /// Reviews `psbt` against `policy`, with what was moved in the 24 hours before.
    pub fn of(policy: &VaultPolicy, psbt: &Psbt, spending: &DailySpending) -> Review {
        let mut deriver = Deriver::new(policy);
        let inputs = review_inputs(&mut deriver, psbt);
        let outputs = review_outputs(&mut deriver, psbt);
        let txid = psbt.unsigned_tx.compute_txid();

        let tiers: std::collections::BTreeSet<Option<Tier>> =
            inputs.iter().map(|i| i.owner.map(|o| o.tier)).collect();
        let source = match tiers.into_iter().collect::<Vec<_>>().as_slice() {
            [Some(t)] => Some(*t),
            _ => None,
        };
        let movement = source.map(|t| {
            let external = outputs
                .iter()
                .any(|o| matches!(o.destination, Destination::External { .. }));
            let other = outputs
                .iter()
                .any(|o| o.destination == Destination::Vault { tier: t.other() });
            Movement::of(t, external, other)
        });
        // Payouts count what goes outside (what the payout limits are
        // about); transfers count what goes to the other tier.
        // Every sum is checked: a crafted PSBT may carry amounts that wrap
        // a u64. The cap keeps later arithmetic (daily totals) in range; the
        // `output-values` rule refuses such a transaction.
        let moved_sat = match (source, movement) {
            (Some(t), Some(m)) => checked_total(
                outputs
                    .iter()
                    .filter(|o| match m {
                        Movement::HotPayout | Movement::ColdPayout => {
                            matches!(o.destination, Destination::External { .. })
                        }
                        _ => o.destination == Destination::Vault { tier: t.other() },
                    })
                    .map(|o| o.amount_sat),
            )
            .unwrap_or(Amount::MAX_MONEY.to_sat()),
            _ => 0,
        };
        let input_total_sat = inputs
            .iter()
            .map(|i| i.amount_sat)
            .try_fold(0u64, |acc, a| a.and_then(|a| acc.checked_add(a)));
        let output_total_sat = checked_total(outputs.iter().map(|o| o.amount_sat));
        let fee_sat = match (input_total_sat, output_total_sat) {
            (Some(i), Some(o)) => i64::try_from(i)
                .ok()
                .and_then(|i| i.checked_sub(i64::try_from(o).ok()?)),
            _ => None,
        };
        let satisfaction: Weight = inputs
            .iter()
            .filter_map(|i| i.descriptor.as_ref())
            .filter_map(|d| d.max_weight_to_satisfy().ok())
            .fold(Weight::ZERO, |a, b| a + b);
        // Segwit marker and flag add 2 weight units to the unsigned weight.
        let weight = psbt.unsigned_tx.weight() + Weight::from_wu(2) + satisfaction;
        let approvals = movement.map(|m| approval_status(policy, psbt, m));
        let psbt_policy_id = match policy_tag(psbt) {
            PolicyTag::Present(id) => Some(id.to_string()),
            PolicyTag::Malformed => Some("(malformed)".into()),
            PolicyTag::Missing => None,
        };
        let mut review = Review {
            vault: policy.name().to_owned(),
            network: policy.network().to_string(),
            policy_id: policy.id(),
            psbt_policy_id,
            txid,
            source,
            movement,
            moved_sat,
            inputs,
            outputs,
            input_total_sat,
            output_total_sat,
            fee_sat,
            vsize: weight.to_vbytes_ceil(),
            lock_time: psbt.unsigned_tx.lock_time.to_consensus_u32(),
            approvals,
            spending: spending.clone(),
            rules: Vec::new(),
            would_sign: false,
        };
        review.rules = evaluate(policy, psbt, &review);
        review.would_sign = review.rules.iter().all(|r| r.passed);
        review
    }

    /// The same review with the daily limit judged again on `spending`: a
    /// signer judges it once more, under its log's lock, just before it
    /// records a signature, since another session may have signed meanwhile.
    pub(crate) fn with_spending(&self, policy: &VaultPolicy, spending: &DailySpending) -> Review {
        let mut r = self.clone();
        r.spending = spending.clone();
        let check = daily_rule(policy, &r);
        if let Some(old) = r.rules.iter_mut().find(|c| c.rule == RuleId::DailyLimit) {
            *old = check;
        }
        r.would_sign = r.rules.iter().all(|c| c.passed);
        r
    }

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

    /// Approvals, checked for the movement.
    pub fn approvals(&self) -> Option<&ApprovalStatus> {
        self.approvals.as_ref()
    }

    /// What was moved in the 24 hours before, as the review counted it.
    pub fn spending(&self) -> &DailySpending {
        &self.spending
    }

    /// The summary a key holder checks in ten seconds, ending in whether
    /// this signer would sign.
    pub fn to_text(&self) -> String {
        let mut s = self.text_without_verdict(None);
        let verdict = if self.would_sign {
            "WOULD SIGN".to_owned()
        } else {
            format!("REFUSED ({} rule(s) fail)", self.failures().count())
        };
        let _ = writeln!(s, "Verdict: {verdict}");
        s
    }

    /// The summary without its verdict line. A failing `open` rule is shown
    /// as OPEN rather than FAIL: for an approver, missing approvals are what
    /// the approval is for, not a reason to stop.
    pub(crate) fn text_without_verdict(&self, open: Option<RuleId>) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Vault {} ({}), policy {}",
            self.vault,
            self.network,
            self.policy_id.short()
        );
        let what = self.movement.map_or(
            "unclassified movement (inputs not from one vault wallet)",
            |m| m.describe(),
        );
        let _ = writeln!(
            s,
            "Transaction {}: {}, moving {}",
            self.txid,
            what,
            moved_text(self)
        );
        let from = self
            .source
            .map_or("not one vault wallet".to_owned(), |t| format!("{t} wallet"));
        let _ = writeln!(
            s,
            "Inputs: {} from {}, {}",
            self.inputs.len(),
            from,
            self.input_total_sat
                .map_or("total unknown".to_owned(), |t| btc(Amount::from_sat(t)))
        );
        let _ = writeln!(s, "Outputs:");
        for o in &self.outputs {
            let path = o.owner.map_or(String::new(), |p| {
                let chain = if p.chain == 0 { "receive" } else { "change" };
                format!(" ({chain} {})", p.index)
            });
            let class = match (o.destination, self.source) {
                (Destination::Vault { tier }, Some(src)) if tier == src => {
                    format!("change to {tier}{path}")
                }
                (Destination::Vault { tier }, _) => format!("to {tier}{path}"),
                (Destination::External { allowlisted: true }, _) => {
                    "external, allowlisted".to_owned()
                }
                (Destination::External { allowlisted: false }, _) => {
                    "external, NOT allowlisted".to_owned()
                }
            };
            let _ = writeln!(
                s,
                "  #{:<3} {:>18}  {:<26} {}",
                o.index,
                btc(Amount::from_sat(o.amount_sat)),
                class,
                o.address.as_deref().unwrap_or("(no address)")
            );
        }
        let fee = match self.fee_sat {
            Some(f) if f >= 0 => format!(
                "{} sat, {:.1} sat/vB at {} vB",
                f,
                f as f64 / self.vsize.max(1) as f64,
                self.vsize
            ),
            Some(f) => format!("negative ({f} sat)"),
            None => "unknown".to_owned(),
        };
        let _ = writeln!(s, "Fee: {fee}");
        for line in timelock_lines(self) {
            let _ = writeln!(s, "{line}");
        }
        if let Some(a) = &self.approvals {
            let valid = a
                .checks
                .iter()
                .filter(|c| c.verdict == Verdict::Valid)
                .count();
            let _ = writeln!(s, "Approvals: {} present, {} valid", a.checks.len(), valid);
            for c in &a.checks {
                let _ = writeln!(
                    s,
                    "  {} ({}): {}",
                    c.approver,
                    c.department.as_deref().unwrap_or("unknown department"),
                    c.reason
                );
            }
        }
        let _ = writeln!(s, "Rules:");
        for r in &self.rules {
            let mark = match r.passed {
                true => "PASS",
                false if Some(r.rule) == open => "OPEN",
                false => "FAIL",
            };
            let _ = writeln!(s, "  {mark} {:<18} {}", r.rule.as_str(), r.reason);
        }
        s
    }
}

pub use crate::policy::btc;

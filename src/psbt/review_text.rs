//! A review as people read it: the transaction, its inputs and outputs,
//! fee, lock times, approvals and every rule with PASS or FAIL.

use std::fmt::Write as _;

use bitcoin::Amount;

use super::anomalies::{moved_text, timelock_lines};
use super::approvals::Verdict;
use super::classify::Destination;
use super::review::{btc, Review};
use crate::policy::rules::RuleId;

impl Review {
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
        if self.address_keys_set_aside {
            let _ = writeln!(
                s,
                "WARNING: this signer's address key table of the policy does not match it (a damaged or altered file); every input was derived from the policy instead. Run `custodia-signer register` with the policy again to make the table anew."
            );
        }
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
        if let Some(message) = &self.proof {
            let _ = writeln!(
                s,
                "Proof of control for the auditor's message \"{message}\": input 0 is its challenge; this can never be mined"
            );
        }
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
                (Destination::Successor { tier }, _) => {
                    format!("to the successor vault's {tier} wallet")
                }
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
                btc(o.amount),
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

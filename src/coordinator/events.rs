//! What the coordinator reads back from its own event log: the proposal behind
//! a txid, approvals already recorded, and what was broadcast in the last 24
//! hours (the coordinator's view of the daily limits, checked before a signer
//! sees a proposal; signers keep their own count).

use std::collections::BTreeSet;

use bitcoin::{Amount, Psbt, Txid};
use serde_json::Value;

use crate::audit::{now_unix, LogEntry};
use crate::psbt::{counted_amount, signer_heads, DailySpending, LimitScope, Movement, SignerHead};

use super::error::CoordinatorError;
use super::vault::Coordinator;

/// `kind` of a proposal entry.
pub const PROPOSAL: &str = "proposal";
/// `kind` of an entry for an approval first seen in a PSBT.
pub const APPROVAL: &str = "approval";
/// `kind` of a broadcast entry.
pub const BROADCAST: &str = "broadcast";
/// `kind` of an entry for a signer's log head first seen in a PSBT.
pub const SIGNER_HEAD: &str = crate::audit::SIGNER_HEAD_EVENT;

fn field<'a>(e: &'a LogEntry, name: &str) -> Option<&'a Value> {
    e.event.get(name)
}

fn str_field<'a>(e: &'a LogEntry, name: &str) -> Option<&'a str> {
    field(e, name).and_then(Value::as_str)
}

impl Coordinator {
    /// Every entry of the log, checked.
    pub fn log_entries(&self) -> Result<Vec<LogEntry>, CoordinatorError> {
        Ok(self.dir().event_log().verify()?.entries)
    }

    /// The newest proposal entry for `txid`, if this coordinator proposed it.
    pub fn proposal_entry(&self, txid: Txid) -> Result<Option<LogEntry>, CoordinatorError> {
        let txid = txid.to_string();
        Ok(self
            .log_entries()?
            .into_iter()
            .rev()
            .find(|e| e.kind() == PROPOSAL && str_field(e, "txid") == Some(txid.as_str())))
    }

    /// Appends an `approval` entry for each approver of `txid` not yet logged.
    pub fn log_new_approvals(
        &self,
        txid: Txid,
        movement: Movement,
        approvers: &[super::collection::ApprovedBy],
    ) -> Result<usize, CoordinatorError> {
        let entries = self.log_entries()?;
        let txid_text = txid.to_string();
        let mut added = 0;
        for super::collection::ApprovedBy {
            approver,
            department,
        } in approvers
        {
            let known = entries.iter().any(|e| {
                e.kind() == APPROVAL
                    && str_field(e, "txid") == Some(txid_text.as_str())
                    && str_field(e, "approver") == Some(approver.as_str())
            });
            if !known {
                self.log(serde_json::json!({
                    "kind": APPROVAL,
                    "txid": txid_text,
                    "movement": movement.as_str(),
                    "approver": approver,
                    "department": department,
                }))?;
                added += 1;
            }
        }
        Ok(added)
    }

    /// Appends a `signer-head` entry for each signer log head in `psbt` not
    /// yet logged. The auditor later checks that each signer's log still
    /// holds every head recorded here, so a signer log cut short is found.
    pub fn log_new_signer_heads(&self, psbt: &Psbt) -> Result<usize, CoordinatorError> {
        let heads = signer_heads(psbt);
        if heads.is_empty() {
            return Ok(0);
        }
        let known: BTreeSet<SignerHead> = self
            .log_entries()?
            .iter()
            .filter(|e| e.kind() == SIGNER_HEAD)
            .filter_map(|e| serde_json::from_value(e.event["head"].clone()).ok())
            .collect();
        let txid = psbt.unsigned_tx.compute_txid().to_string();
        let mut added = 0;
        for head in heads.into_iter().filter(|h| !known.contains(h)) {
            self.log(serde_json::json!({
                "kind": SIGNER_HEAD,
                "txid": txid,
                "head": head,
            }))?;
            added += 1;
        }
        Ok(added)
    }

    /// What this vault broadcast in the last 24 hours, from the log: the
    /// coordinator's wallet-wide view of the daily limits (outgoing amount
    /// plus fee), checked before a signer sees a proposal. Signers keep their
    /// own count.
    pub fn daily_spending(&self) -> Result<DailySpending, CoordinatorError> {
        let mut spent = DailySpending::empty(LimitScope::Wallet, now_unix());
        for e in self.log_entries()? {
            if e.kind() != BROADCAST || !spent.in_window(e.unix_time) {
                continue;
            }
            let movement = str_field(&e, "movement").and_then(|m| m.parse::<Movement>().ok());
            let txid = str_field(&e, "txid").and_then(|t| t.parse::<Txid>().ok());
            let sat = |name: &str| {
                field(&e, name)
                    .and_then(Value::as_u64)
                    .map(Amount::from_sat)
            };
            if let (Some(m), Some(t), Some(moved)) = (movement, txid, sat("amount_sat")) {
                let fee = sat("fee_sat").unwrap_or(Amount::ZERO);
                spent.record(t, m, counted_amount(m, moved, fee));
            }
        }
        Ok(spent)
    }
}

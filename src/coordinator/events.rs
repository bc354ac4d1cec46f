//! What the coordinator reads back from its own event log: the proposal behind
//! a txid, approvals already recorded, and what was broadcast today (the
//! coordinator's view of the daily limits, checked before a signer sees a
//! proposal; signers keep their own count).

use bitcoin::{Amount, Txid};
use serde_json::Value;

use crate::audit::{utc_day, LogEntry};
use crate::psbt::{Movement, SpentToday};

use super::error::CoordinatorError;
use super::vault::Coordinator;

/// `kind` of a proposal entry.
pub const PROPOSAL: &str = "proposal";
/// `kind` of an entry for an approval first seen in a PSBT.
pub const APPROVAL: &str = "approval";
/// `kind` of a broadcast entry.
pub const BROADCAST: &str = "broadcast";

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

    /// Movements of this policy broadcast today (UTC), from the log.
    pub fn spent_today(&self) -> Result<SpentToday, CoordinatorError> {
        let day = SpentToday::today();
        let mut spent = SpentToday::empty(day);
        let policy = self.policy().id().to_string();
        for e in self.log_entries()? {
            if e.kind() != BROADCAST
                || utc_day(e.unix_time) != day
                || str_field(&e, "policy_id") != Some(policy.as_str())
            {
                continue;
            }
            let movement = str_field(&e, "movement").and_then(|m| m.parse::<Movement>().ok());
            let txid = str_field(&e, "txid").and_then(|t| t.parse::<Txid>().ok());
            let amount = field(&e, "amount_sat").and_then(Value::as_u64);
            if let (Some(m), Some(t), Some(a)) = (movement, txid, amount) {
                spent.record(t, m, Amount::from_sat(a));
            }
        }
        Ok(spent)
    }
}

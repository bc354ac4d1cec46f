//! What the coordinator reads back from its own event log: the proposal behind
//! a txid, approvals already recorded, and what was broadcast in the last 24
//! hours (the coordinator's view of the daily limits, checked before a signer
//! sees a proposal; signers keep their own count).

use std::collections::BTreeSet;

use bitcoin::{Amount, Psbt, Txid};

use crate::audit::{now_unix, ApprovalSeen, Event, LogEntry, Proposed, SignerHeadSeen};
use crate::psbt::{
    counted_amount, read_approvals, signer_heads, DailySpending, LimitScope, Movement, SignerHead,
};

use super::error::CoordinatorError;
use super::vault::Coordinator;

impl Coordinator {
    /// Every entry of the log, checked.
    pub fn log_entries(&self) -> Result<Vec<LogEntry>, CoordinatorError> {
        Ok(self.dir().event_log().verify()?.entries)
    }

    /// Every event of the log, checked and typed, with the Unix time of its
    /// entry. Kinds this program does not know are left out.
    pub fn log_events(&self) -> Result<Vec<(u64, Event)>, CoordinatorError> {
        let mut out = Vec::new();
        for e in self.log_entries()? {
            if let Some(event) = e.event()? {
                out.push((e.unix_time, event));
            }
        }
        Ok(out)
    }

    /// The newest proposal for `txid`, if this coordinator proposed it.
    pub fn proposal(&self, txid: Txid) -> Result<Option<Proposed>, CoordinatorError> {
        Ok(self
            .log_events()?
            .into_iter()
            .rev()
            .find_map(|(_, e)| match e {
                Event::Proposal(p) if p.txid == txid => Some(p),
                _ => None,
            }))
    }

    /// Appends an `approval` entry, with the approval's signature from
    /// `psbt`, for each approver of `txid` not yet logged.
    pub fn log_new_approvals(
        &self,
        psbt: &Psbt,
        txid: Txid,
        movement: Movement,
        approvers: &[super::quorum::ApprovedBy],
    ) -> Result<usize, CoordinatorError> {
        let events = self.log_events()?;
        let carried = read_approvals(psbt);
        let mut added = 0;
        for super::quorum::ApprovedBy {
            approver,
            department,
        } in approvers
        {
            let known = events.iter().any(|(_, e)| {
                matches!(e, Event::Approval(a) if a.txid == txid && a.approver == *approver)
            });
            if !known {
                self.log(&Event::Approval(ApprovalSeen {
                    policy_id: self.policy().id(),
                    txid,
                    movement,
                    approver: approver.clone(),
                    department: department.clone(),
                    signature: carried.iter().flatten().find_map(|a| {
                        (a.approver == *approver && a.movement == movement).then_some(a.signature)
                    }),
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
            .log_events()?
            .into_iter()
            .filter_map(|(_, e)| match e {
                Event::SignerHead(s) => Some(s.head),
                _ => None,
            })
            .collect();
        let txid = psbt.unsigned_tx.compute_txid();
        let mut added = 0;
        for head in heads.into_iter().filter(|h| !known.contains(h)) {
            self.log(&Event::SignerHead(SignerHeadSeen {
                policy_id: self.policy().id(),
                txid,
                head,
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
        for (time, e) in self.log_events()? {
            let Event::Broadcast(b) = e else { continue };
            if !spent.in_window(time) {
                continue;
            }
            // A transaction broadcast here but not proposed here has no
            // known amount; the signers' own counts still bind it.
            if let (Some(m), Some(moved)) = (b.movement, b.amount) {
                let fee = b.fee.unwrap_or(Amount::ZERO);
                spent.record(b.txid, m, counted_amount(m, moved, fee));
            }
        }
        Ok(spent)
    }
}

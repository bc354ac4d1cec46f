//! What needs doing, for `status`: proposals still waiting for approvals or
//! signatures, coins whose recovery timelock is about to open (or has), and
//! whether the cold ratio holds. Worked out from the coordinator's own log
//! and wallets; nothing here asks the node.

use std::collections::{BTreeMap, BTreeSet};

use bitcoin::{Amount, OutPoint, Txid};
use serde::Serialize;

use crate::audit::{Event, LogEntry};
use crate::policy::{ApproverId, Tier, VaultPolicy};
use crate::psbt::Movement;

use super::vault::Coin;

/// The list of things to do.
#[derive(Debug, Clone, Serialize)]
pub struct ToDo {
    /// Proposals neither broadcast nor abandoned, oldest first.
    pub open_proposals: Vec<OpenProposal>,
    /// Coins of wallets with a recovery path whose timelock opens within
    /// [`recovery_window`] blocks, or is open.
    pub recovery_soon: Vec<RecoveryClock>,
    /// The cold share of the vault, in percent.
    pub cold_percent: f64,
    /// Whether it meets the policy's minimum.
    pub ratio_ok: bool,
}

/// A proposal still in flight, and what it lacks as far as the coordinator
/// has seen (`approvals`, `combine`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenProposal {
    /// The transaction.
    pub txid: Txid,
    /// Its movement.
    pub movement: Movement,
    /// What it moves.
    #[serde(rename = "amount_sat", with = "bitcoin::amount::serde::as_sat")]
    pub amount: Amount,
    /// The proposal's file.
    pub file: String,
    /// Approvers whose approval the coordinator has seen.
    pub approvals_seen: Vec<ApproverId>,
    /// Approvals the policy asks for this movement.
    pub approvals_needed: usize,
    /// Signatures per input in the last `combine`, if any.
    pub signatures: Option<Vec<usize>>,
    /// Signatures every input needs.
    pub signatures_needed: usize,
}

impl OpenProposal {
    /// What it waits for, in words.
    pub fn waiting_for(&self) -> String {
        let approvals = self
            .approvals_needed
            .saturating_sub(self.approvals_seen.len());
        let least = self
            .signatures
            .as_ref()
            .and_then(|s| s.iter().min().copied())
            .unwrap_or(0);
        let signatures = self.signatures_needed.saturating_sub(least);
        match (approvals, signatures) {
            (0, 0) => "ready: finalize and broadcast".into(),
            (0, s) => format!("{s} more signature(s) on some input"),
            (a, 0) => format!("{a} more approval(s)"),
            (a, s) => format!("{a} more approval(s), then {s} more signature(s)"),
        }
    }
}

/// A coin and its recovery timelock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecoveryClock {
    /// The wallet.
    pub tier: Tier,
    /// The coin.
    pub outpoint: OutPoint,
    /// Its value.
    #[serde(rename = "amount_sat", with = "bitcoin::amount::serde::as_sat")]
    pub amount: Amount,
    /// Confirmations it has.
    pub confirmations: u32,
    /// The recovery path's relative timelock.
    pub after_blocks: u16,
    /// Blocks until the recovery path can spend it (0: it can now).
    pub opens_in: u32,
}

/// How far ahead `status` warns: a tenth of the timelock, at least a day's
/// blocks, so there is time to move the coin (any spend by the main quorum
/// restarts its clock).
pub fn recovery_window(after_blocks: u16) -> u32 {
    (u32::from(after_blocks) / 10).max(144)
}

/// The proposals of `entries` that no broadcast or abandon closed.
pub fn open_proposals(entries: &[LogEntry], policy: &VaultPolicy) -> Vec<OpenProposal> {
    let mut open: BTreeMap<Txid, (u64, OpenProposal)> = BTreeMap::new();
    let mut seen: BTreeMap<Txid, BTreeSet<ApproverId>> = BTreeMap::new();
    let mut combined: BTreeMap<Txid, Vec<usize>> = BTreeMap::new();
    let mut closed: BTreeSet<Txid> = BTreeSet::new();
    for entry in entries {
        match entry.event() {
            Ok(Some(Event::Proposal(p))) if p.policy_id == policy.id() => {
                if let Some(replaced) = p.replaces {
                    closed.insert(replaced);
                }
                let wallet = policy.wallet(p.movement.source());
                let approvals_needed = match p.movement.needs_approvals() {
                    true => policy.rules().cold_to_hot().min_approvals(),
                    false => 0,
                };
                let proposal = OpenProposal {
                    txid: p.txid,
                    movement: p.movement,
                    amount: p.amount,
                    file: p.file,
                    approvals_seen: Vec::new(),
                    approvals_needed,
                    signatures: None,
                    signatures_needed: match (p.recovery, wallet.recovery()) {
                        (true, Some(path)) => path.threshold(),
                        _ => wallet.threshold(),
                    },
                };
                open.insert(p.txid, (entry.seq, proposal));
            }
            Ok(Some(Event::Approval(a))) => {
                seen.entry(a.txid).or_default().insert(a.approver);
            }
            Ok(Some(Event::Combine(c))) => {
                combined.insert(c.txid, c.signatures);
            }
            Ok(Some(Event::Broadcast(b))) => {
                closed.insert(b.txid);
            }
            Ok(Some(Event::Abandon(a))) => {
                closed.insert(a.txid);
            }
            _ => {}
        }
    }
    let mut list: Vec<(u64, OpenProposal)> = open
        .into_iter()
        .filter(|(txid, _)| !closed.contains(txid))
        .map(|(txid, (seq, mut p))| {
            p.approvals_seen = seen.remove(&txid).unwrap_or_default().into_iter().collect();
            p.signatures = combined.remove(&txid);
            (seq, p)
        })
        .collect();
    list.sort_by_key(|(seq, _)| *seq);
    list.into_iter().map(|(_, p)| p).collect()
}

/// The coins whose recovery timelock opens within the window at chain
/// height `tip`, or has opened; unconfirmed coins have not started theirs.
pub fn recovery_clocks(coins: &[Coin], policy: &VaultPolicy, tip: u32) -> Vec<RecoveryClock> {
    coins
        .iter()
        .filter_map(|coin| {
            let after = policy.wallet(coin.tier).recovery()?.after_blocks();
            let confirmations = tip.checked_sub(coin.confirmation_height?)? + 1;
            let opens_in = u32::from(after).saturating_sub(confirmations);
            (opens_in <= recovery_window(after)).then_some(RecoveryClock {
                tier: coin.tier,
                outpoint: coin.outpoint,
                amount: coin.amount,
                confirmations,
                after_blocks: after,
                opens_in,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordinator::test_vault::{TestVault, BTC};

    #[test]
    fn proposals_stay_open_until_broadcast_or_abandoned() {
        let v = TestVault::new();
        v.fund(Tier::Cold, 10 * BTC);
        let transfer = v.transfer(Tier::Cold, BTC, "transfer.psbt").unwrap();
        let policy = v.coordinator.policy().clone();
        let open = open_proposals(&v.coordinator.log_entries().unwrap(), &policy);
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].txid, transfer.txid);
        assert_eq!(open[0].approvals_needed, 2);
        assert_eq!(open[0].signatures_needed, 3);
        assert_eq!(
            open[0].waiting_for(),
            "2 more approval(s), then 3 more signature(s)"
        );
        v.coordinator.abandon(&transfer.file).unwrap();
        assert!(open_proposals(&v.coordinator.log_entries().unwrap(), &policy).is_empty());
    }

    #[test]
    fn a_recovery_proposal_needs_the_recovery_paths_signatures() {
        let policy = crate::policy::example("regtest-recovery");
        let tier = Tier::ALL
            .into_iter()
            .find(|t| policy.wallet(*t).recovery().is_some())
            .unwrap();
        let wallet = policy.wallet(tier);
        let recovery = wallet.recovery().unwrap().threshold();
        assert_ne!(recovery, wallet.threshold(), "the example tells them apart");
        let dir = tempfile::tempdir().unwrap();
        let log = crate::audit::EventLog::new(dir.path().join("events.jsonl"));
        for (n, by_recovery) in [(1u8, false), (2, true)] {
            log.append(&Event::Proposal(crate::audit::Proposed {
                policy_id: policy.id(),
                movement: Movement::migration_of(tier),
                txid: bitcoin::hashes::Hash::from_byte_array([n; 32]),
                amount: Amount::from_sat(1),
                fee: Amount::from_sat(1),
                outputs: Vec::new(),
                file: format!("{n}.psbt"),
                replaces: None,
                recovery: by_recovery,
            }))
            .unwrap();
        }
        let open = open_proposals(&log.verify().unwrap().entries, &policy);
        let needed: Vec<usize> = open.iter().map(|p| p.signatures_needed).collect();
        assert_eq!(needed, [wallet.threshold(), recovery]);
    }

    #[test]
    fn coins_near_or_past_their_recovery_timelock_are_listed() {
        let policy = crate::policy::example("regtest-recovery");
        let tier = Tier::ALL
            .into_iter()
            .find(|t| policy.wallet(*t).recovery().is_some())
            .unwrap();
        let after = policy.wallet(tier).recovery().unwrap().after_blocks();
        let coin = |height: Option<u32>| Coin {
            tier,
            outpoint: OutPoint::null(),
            amount: Amount::from_sat(1),
            address: String::new(),
            chain: "receive".into(),
            index: 0,
            confirmation_height: height,
            reserved: false,
        };
        let tip = 100_000;
        let window = recovery_window(after);
        let far = coin(Some(tip));
        let near = coin(Some(tip + 1 + window - u32::from(after)));
        let open = coin(Some(tip - u32::from(after)));
        let clocks = recovery_clocks(&[far, near, open, coin(None)], &policy, tip);
        assert_eq!(clocks.len(), 2);
        assert_eq!(clocks[0].opens_in, window);
        assert_eq!(clocks[1].opens_in, 0);
    }
}

//! The reconciliation report: each vault spend, what the log says of it, and
//! the findings.

use std::fmt::Write as _;

use bitcoin::{Amount, BlockHash, Txid};
use serde::Serialize;

use super::checks::{on_chain, problems, SpendProblem};
use super::history::{BalanceAt, ChainWalk, SpendStatus, VaultSpend};
use super::Evidence;
use crate::error::{Classify, ExitCode};
use crate::policy::rules::Movement;
use crate::policy::{btc, PolicyId, Tier, VaultPolicy};

/// One vault spend and its judgement.
#[derive(Debug, Clone, Serialize)]
pub struct ReconciledSpend {
    /// The spend.
    #[serde(flatten)]
    pub spend: VaultSpend,
    /// The tier it spends from, if one.
    pub tier: Option<Tier>,
    /// Its movement on chain, if it is one movement.
    pub movement: Option<Movement>,
    /// What it moved to the other tier or outside.
    #[serde(rename = "moved_sat", with = "crate::audit::event::optional_sat")]
    pub moved: Option<Amount>,
    /// The policy it was proposed under, if proposed.
    pub proposed_under: Option<PolicyId>,
    /// What is wrong with it; empty when it reconciles.
    pub problems: Vec<SpendProblem>,
}

/// A finding: a spend and one thing wrong with it.
#[derive(Debug, Clone, Serialize)]
pub struct SpendFinding {
    /// The transaction.
    pub txid: Txid,
    /// Its height, if confirmed.
    pub height: Option<u64>,
    /// The tier it spends from.
    pub tier: Option<Tier>,
    /// What it moved.
    #[serde(rename = "moved_sat", with = "crate::audit::event::optional_sat")]
    pub moved: Option<Amount>,
    /// What is wrong.
    pub problem: SpendProblem,
}

/// Everything reconcile found.
#[derive(Debug, Clone, Serialize)]
pub struct Reconciliation {
    /// The first height walked.
    pub from_height: u64,
    /// The tip walked to.
    pub tip_height: u64,
    /// Its hash.
    pub tip_hash: BlockHash,
    /// Its timestamp (Unix seconds).
    pub tip_time: u64,
    /// Every vault spend, confirmed then unconfirmed.
    pub spends: Vec<ReconciledSpend>,
    /// Transactions the coordinator logged as broadcast that are neither in
    /// the blocks walked nor in the mempool: reorged out and dropped, never
    /// relayed, or confirmed before the first height walked.
    pub broadcast_not_found: Vec<Txid>,
    /// The vault's holdings after each block walked (coins funded during the
    /// walk only); left out of the JSON, it feeds the daily report's chart.
    #[serde(skip)]
    pub balances: Vec<BalanceAt>,
}

/// Vault spends that do not reconcile (exit code 1).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} vault spend(s) do not reconcile with the coordinator's log and the policy; each is listed above with its reason", .0.len())]
pub struct ReconcileFinding(pub Vec<SpendFinding>);

impl Classify for ReconcileFinding {
    fn exit_code(&self) -> ExitCode {
        ExitCode::Refused
    }
}

impl Reconciliation {
    pub(super) fn judge(
        walk: ChainWalk,
        evidence: &Evidence,
        policies: &[VaultPolicy],
        from_height: u64,
    ) -> Reconciliation {
        let ChainWalk {
            spends,
            tip_height,
            tip_hash,
            tip_time,
            balances,
        } = walk;
        let seen: std::collections::HashSet<Txid> = spends.iter().map(|s| s.txid).collect();
        let broadcast_not_found = evidence
            .broadcast
            .iter()
            .filter(|t| !seen.contains(*t))
            .copied()
            .collect();
        let spends = spends
            .into_iter()
            .map(|spend| {
                let proposed = evidence.proposals.get(&spend.txid).map(|p| p.policy_id);
                let chain = on_chain(&spend, proposed);
                ReconciledSpend {
                    tier: chain.as_ref().map(|c| c.source),
                    movement: chain.as_ref().map(|c| c.movement),
                    moved: chain.as_ref().map(|c| c.moved),
                    proposed_under: evidence.proposals.get(&spend.txid).map(|p| p.policy_id),
                    problems: problems(&spend, evidence, policies),
                    spend,
                }
            })
            .collect();
        Reconciliation {
            from_height,
            tip_height,
            tip_hash,
            tip_time,
            spends,
            broadcast_not_found,
            balances,
        }
    }

    /// Every finding, one per problem of a spend.
    pub fn findings(&self) -> Vec<SpendFinding> {
        self.spends
            .iter()
            .flat_map(|s| {
                s.problems.iter().map(|p| SpendFinding {
                    txid: s.spend.txid,
                    height: match s.spend.status {
                        SpendStatus::Confirmed { height, .. } => Some(height),
                        SpendStatus::Unconfirmed => None,
                    },
                    tier: s.tier.or_else(|| s.spend.inputs.first().map(|i| i.tier)),
                    moved: s.moved,
                    problem: p.clone(),
                })
            })
            .collect()
    }

    /// The finding to exit with, if any spend does not reconcile.
    pub fn finding(&self) -> Option<ReconcileFinding> {
        let findings = self.findings();
        (!findings.is_empty()).then_some(ReconcileFinding(findings))
    }

    /// The report for people.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "vault spends in blocks {}..={} and the mempool: {}\n",
            self.from_height,
            self.tip_height,
            self.spends.len()
        );
        for r in &self.spends {
            let at = match r.spend.status {
                SpendStatus::Confirmed { height, .. } => format!("height {height}"),
                SpendStatus::Unconfirmed => "unconfirmed".to_owned(),
            };
            let what = match (r.movement, r.moved) {
                (Some(m), Some(moved)) => format!("{} of {}", m.describe(), btc(moved)),
                _ => "not one movement of one tier".to_owned(),
            };
            let verdict = if r.problems.is_empty() {
                "OK"
            } else {
                "FINDING"
            };
            let _ = writeln!(s, "  {verdict:<7} {} ({at}): {what}", r.spend.txid);
            for p in &r.problems {
                let _ = writeln!(s, "          {p}");
            }
        }
        for txid in &self.broadcast_not_found {
            let _ = writeln!(
                s,
                "  note: {txid} was broadcast by the coordinator but is not in the blocks walked nor the mempool (reorged out and dropped, never relayed, or mined before height {})",
                self.from_height
            );
        }
        let findings = self.findings().len();
        let _ = writeln!(
            s,
            "{}",
            match findings {
                0 => "every vault spend reconciles".to_owned(),
                n => format!("{n} finding(s)"),
            }
        );
        s
    }
}

//! Reconciling the chain with the logs: every transaction that spends a vault
//! coin must be one the coordinator proposed, under a policy the auditor
//! holds, and must satisfy that policy's rules on chain — destinations, the
//! amount per transaction, and for cold→hot the approvals, verified from the
//! signatures the coordinator logged. A spend made with the vault's keys
//! outside custodia is a finding.

mod checks;
mod history;
mod report;
mod scripts;

use std::collections::HashMap;

use bitcoin::Txid;

pub use checks::SpendProblem;
pub use history::{
    walk_chain, BalanceAt, ChainHistory, ChainWalk, OutputDestination, SpendOutput, SpendStatus,
    SpentInput, VaultSpend,
};
pub use report::{ReconcileFinding, ReconciledSpend, Reconciliation, SpendFinding};
pub use scripts::{ScriptOwner, VaultScripts};

use super::event::{ApprovalSeen, Event, Proposed};
use super::log::{LogError, VerifiedLog};
use crate::error::{Classify, ExitCode};
use crate::policy::VaultPolicy;
use crate::progress::SyncProgress;

/// Why reconciling could not finish (a finding is not an error: it is in
/// the [`Reconciliation`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// No policy was given.
    #[error("reconcile needs at least one policy (--policy FILE)")]
    NoPolicy,
    /// The policies given are of different networks.
    #[error("the policies given are for {0} and {1}; reconcile one network at a time")]
    MixedNetworks(bitcoin::Network, bitcoin::Network),
    /// An entry of the coordinator's log does not read.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The node failed.
    #[error("the node could not be read: {0}; check that bitcoind runs and that --rpc-url and the credentials are right")]
    Node(Box<dyn std::error::Error + Send + Sync>),
}

impl Classify for ReconcileError {
    fn exit_code(&self) -> ExitCode {
        match self {
            ReconcileError::Node(_) => ExitCode::NodeOrIo,
            _ => ExitCode::BadInput,
        }
    }
}

/// What the coordinator's log says of each transaction.
#[derive(Debug, Default)]
pub(crate) struct Evidence {
    /// The newest proposal of each txid.
    pub(crate) proposals: HashMap<Txid, Proposed>,
    /// Every approval logged.
    pub(crate) approvals: Vec<ApprovalSeen>,
    /// Every txid the coordinator broadcast.
    pub(crate) broadcast: Vec<Txid>,
}

impl Evidence {
    /// Reads the coordinator's verified log.
    fn of(log: &VerifiedLog) -> Result<Evidence, LogError> {
        let mut evidence = Evidence::default();
        for entry in &log.entries {
            match entry.event()? {
                Some(Event::Proposal(p)) => {
                    evidence.proposals.insert(p.txid, p);
                }
                Some(Event::Approval(a)) => evidence.approvals.push(a),
                Some(Event::Broadcast(b)) => evidence.broadcast.push(b.txid),
                _ => {}
            }
        }
        Ok(evidence)
    }
}

/// Walks the chain from `from_height` (and the mempool) for every spend of a
/// vault coin of `policies`, and judges each against the coordinator's log.
pub fn reconcile<H: ChainHistory>(
    policies: &[VaultPolicy],
    coordinator_log: &VerifiedLog,
    history: &H,
    from_height: u64,
    progress: &dyn SyncProgress,
) -> Result<Reconciliation, ReconcileError> {
    let network = policies.first().ok_or(ReconcileError::NoPolicy)?.network();
    if let Some(other) = policies.iter().find(|p| p.network() != network) {
        return Err(ReconcileError::MixedNetworks(network, other.network()));
    }
    let evidence = Evidence::of(coordinator_log)?;
    let scripts = VaultScripts::of(policies);
    let walk = walk_chain(history, &scripts, network, from_height, progress)
        .map_err(|e| ReconcileError::Node(Box::new(e)))?;
    Ok(Reconciliation::judge(
        walk,
        &evidence,
        policies,
        from_height,
    ))
}

#[cfg(test)]
mod tests;

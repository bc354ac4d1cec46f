//! What the online auditor commands gather from the node and the logs,
//! and the findings they exit with.

use std::path::PathBuf;

use super::{ReconcileArgs, VerifyProofArgs};

/// Why an auditor command could not gather what it reads.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatherError {
    /// A policy does not load.
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
    /// A log does not verify or read.
    #[error(transparent)]
    Log(#[from] crate::audit::LogError),
    /// The node cannot be reached.
    #[error(transparent)]
    Node(#[from] crate::coordinator::CoordinatorError),
    /// Reconciling failed.
    #[error(transparent)]
    Reconcile(#[from] crate::audit::reconcile::ReconcileError),
    /// A PSBT does not read.
    #[error("{}: {source}", path.display())]
    Psbt {
        /// The file.
        path: PathBuf,
        /// Why.
        source: crate::psbt::PsbtError,
    },
    /// A proof of control cannot be checked.
    #[error(transparent)]
    Proof(#[from] crate::psbt::proof::ProofError),
}

impl crate::error::Classify for GatherError {
    fn exit_code(&self) -> crate::error::ExitCode {
        match self {
            GatherError::Policy(e) => e.exit_code(),
            GatherError::Log(e) => e.exit_code(),
            GatherError::Node(e) => e.exit_code(),
            GatherError::Reconcile(e) => e.exit_code(),
            GatherError::Psbt { source, .. } => source.exit_code(),
            GatherError::Proof(e) => e.exit_code(),
        }
    }
}

/// Connects to the node of `args` for a vault on `network`.
pub fn node_for(
    args: &crate::coordinator::NodeArgs,
    network: bitcoin::Network,
) -> Result<crate::coordinator::Node, crate::coordinator::CoordinatorError> {
    let settings = crate::coordinator::NodeSettings::default().overridden_by(args);
    Ok(crate::coordinator::Node::connect(&settings, network)?.0)
}

/// What `reconcile` and `report` gathered.
pub struct Reconciled {
    /// The policies, the current one first.
    pub policies: Vec<crate::policy::VaultPolicy>,
    /// The coordinator's log, then the signers'.
    pub logs: Vec<crate::audit::NamedLog>,
    /// Signer heads checked.
    pub heads: crate::audit::HeadCheck,
    /// Signatures checked against proposals.
    pub signatures: crate::audit::SignatureCheck,
    /// Every vault spend judged.
    pub reconciliation: crate::audit::reconcile::Reconciliation,
    /// Every change of policy in the coordinator's log, judged.
    pub policy_changes: crate::audit::PolicyChanges,
}

impl Reconciled {
    /// Everything `reconcile` found, for people.
    pub fn to_text(&self) -> String {
        self.reconciliation.to_text()
            + &self.policy_changes.to_text()
            + &self.heads.to_text()
            + &self.signatures.to_text()
    }

    /// Everything `reconcile` found, as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "reconcile": self.reconciliation,
            "policy_changes": self.policy_changes,
            "signer_heads": self.heads,
            "signatures": self.signatures,
        })
    }

    /// The first finding, as the error to exit with.
    pub fn finding(&self) -> Option<AuditFinding> {
        if let Some(f) = self.reconciliation.finding() {
            return Some(AuditFinding::Spends(f));
        }
        if let Some(f) = self.policy_changes.finding() {
            return Some(AuditFinding::PolicyChanges(f));
        }
        if let Some(f) = self.heads.finding() {
            return Some(AuditFinding::Heads(f));
        }
        self.signatures.finding().map(AuditFinding::Signatures)
    }
}

/// The first finding of `reconcile` (exit 1).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditFinding {
    /// Vault spends that do not reconcile.
    #[error(transparent)]
    Spends(crate::audit::reconcile::ReconcileFinding),
    /// Policy changes that skipped their governance.
    #[error(transparent)]
    PolicyChanges(crate::audit::UngovernedChangeFinding),
    /// Signer log heads missing from the signers' logs.
    #[error(transparent)]
    Heads(crate::audit::MissingHeadsFinding),
    /// Signatures of nothing the coordinator proposed.
    #[error(transparent)]
    Signatures(crate::audit::UnproposedSignaturesFinding),
}

impl crate::error::Classify for AuditFinding {
    fn exit_code(&self) -> crate::error::ExitCode {
        crate::error::ExitCode::Refused
    }
}

/// Reads the policies and logs of `args`, cross-checks the logs and
/// reconciles the node's chain with them.
pub fn reconciled(args: &ReconcileArgs) -> Result<Reconciled, GatherError> {
    use crate::audit::{CoreHistory, HeadCheck, NamedLog, SignatureCheck};
    let policies = args
        .policy
        .iter()
        .map(|p| crate::policy::VaultPolicy::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut logs = vec![NamedLog::read(&args.log)?];
    for f in &args.signer_log {
        logs.push(NamedLog::read(f)?);
    }
    let heads = HeadCheck::of(&logs)?;
    let signatures = SignatureCheck::of(&logs)?;
    let node = node_for(&args.node, policies[0].network())?;
    let reconciliation = crate::audit::reconcile::reconcile(
        &policies,
        &logs[0].log,
        &CoreHistory::new(node.client()),
        args.from_height,
        &crate::ui::progress::TerminalProgress::default(),
    )?;
    let policy_changes = crate::audit::PolicyChanges::of(&policies, &logs[0].log)?;
    Ok(Reconciled {
        policies,
        logs,
        heads,
        signatures,
        reconciliation,
        policy_changes,
    })
}

/// `verify-proof`: reads the policy and the proof, and checks the proof
/// against the node's UTXO set.
pub fn verify_proof(
    args: &VerifyProofArgs,
) -> Result<crate::psbt::proof::ProofVerification, GatherError> {
    let VerifyProofArgs {
        file,
        message,
        policy,
        node,
        ..
    } = args;
    let policy = crate::policy::VaultPolicy::load(policy)?;
    let doc = crate::psbt::PsbtDocument::read(file).map_err(|source| GatherError::Psbt {
        path: file.to_owned(),
        source,
    })?;
    let node = node_for(node, policy.network())?;
    let utxos = crate::audit::CoreHistory::new(node.client());
    Ok(crate::psbt::proof::verify(
        &policy,
        doc.psbt(),
        message,
        &utxos,
    )?)
}

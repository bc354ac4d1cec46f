//! What can go wrong on the coordinator, each case with the exit code it maps to
//! and a message that says what to do next.

use std::path::PathBuf;

use bitcoin::Txid;

use bitcoin::Amount;

use crate::error::{Classify, ExitCode};
use crate::policy::btc;
use crate::policy::rules::{percent, RuleCheck};
use crate::policy::{PolicyId, Tier};

/// A coordinator operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoordinatorError {
    /// No `init` was run for this data dir.
    #[error("no coordinator data in {0}; run `custodia-coordinator init POLICY.toml` first (or pass --data-dir / set CUSTODIA_COORDINATOR_DIR)")]
    NotInitialized(PathBuf),
    /// The data dir or one of its files could not be read or written.
    #[error("cannot access {path}: {source}; check permissions and free space")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// `init` with a policy other than the stored one.
    #[error("the data dir already holds policy {old}, and {new} differs from it:\n{diff}\nre-run with --replace-policy to switch the coordinator to the new policy (the change is logged)")]
    PolicyChanged {
        /// Stored policy id.
        old: PolicyId,
        /// Offered policy id.
        new: PolicyId,
        /// Line diff of the canonical TOML.
        diff: String,
    },
    /// The policy in force governs its changes and no update was given.
    #[error("the policy in force {old} governs its changes: switching to {new} needs the approved policy update (`custodia-signer approve-update`), announced with `announce-policy` and given to init with --update FILE")]
    UpdateNeeded {
        /// The policy in force.
        old: PolicyId,
        /// The successor.
        new: PolicyId,
    },
    /// The update does not approve this change.
    #[error(transparent)]
    Update(#[from] crate::policy::update::UpdateError),
    /// The change was never announced.
    #[error("the change of policy {old} into {new} was never announced; run `custodia-coordinator announce-policy NEW_POLICY --update FILE` and wait the policy's blocks")]
    NotAnnounced {
        /// The policy in force.
        old: PolicyId,
        /// The successor.
        new: PolicyId,
    },
    /// The waiting blocks have not passed yet.
    #[error("policy {new} may be adopted from height {usable_at} on; the chain is at {tip}, {} block(s) to go", usable_at - tip)]
    ChangeWaiting {
        /// The successor.
        new: PolicyId,
        /// The chain's height now.
        tip: u32,
        /// The first height it may be adopted at.
        usable_at: u32,
    },
    /// The change was announced before.
    #[error("the change to policy {new} was announced at height {height}; it may be adopted from height {usable_at} on")]
    AlreadyAnnounced {
        /// The successor.
        new: PolicyId,
        /// When it was announced.
        height: u32,
        /// When it may be adopted.
        usable_at: u32,
    },
    /// A migration names another successor than the one a pending
    /// migration pays.
    #[error("a migration to successor {stored} is under way; finish it (or adopt it with init --replace-policy) before migrating to {given}")]
    OtherSuccessor {
        /// The successor stored.
        stored: PolicyId,
        /// The one given.
        given: PolicyId,
    },
    /// The stored policy no longer parses.
    #[error("the stored policy {path} is invalid: {reason}; restore it from a backup or run init again with --replace-policy")]
    StoredPolicy {
        /// The stored file.
        path: PathBuf,
        /// Why it does not parse.
        reason: String,
    },
    /// The node connection settings are incomplete or contradict each other.
    #[error("node settings: {0}")]
    NodeSettings(String),
    /// The node did not answer.
    #[error("cannot reach bitcoind at {url}: {reason}; check that it runs and --rpc-url/--rpc-cookie (or --rpc-user/--rpc-pass)")]
    NodeUnreachable {
        /// The RPC URL tried.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The node runs on a different network than the policy.
    #[error("bitcoind at {url} runs on `{node}` but the vault policy is for `{policy}`; point --rpc-url at a {policy} node")]
    WrongNetwork {
        /// The RPC URL.
        url: String,
        /// Chain name the node reports.
        node: String,
        /// The policy's network.
        policy: bitcoin::Network,
    },
    /// The node is still in initial block download: its chain is not current.
    #[error("bitcoind at {url} is still catching up with the network (block {blocks}, headers {headers}); wait until `status` shows it synced: proposals need the current chain")]
    NodeSyncing {
        /// The RPC URL.
        url: String,
        /// Validated height.
        blocks: u64,
        /// Best known header.
        headers: u64,
    },
    /// An RPC call failed after the node was reached.
    #[error("bitcoind call `{call}` failed: {reason}; check the node's debug.log and that it runs with -txindex=1 if transactions are missing")]
    Rpc {
        /// The RPC method.
        call: String,
        /// What the node said.
        reason: String,
    },
    /// The wallet database could not be opened, read or written.
    #[error("{tier} wallet database {path}: {reason}; check the file's permissions, or move it aside and run `init` again to rebuild it from the chain")]
    WalletDb {
        /// Which wallet.
        tier: Tier,
        /// The SQLite file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// A block from the node did not connect to the wallet's chain.
    #[error("{tier} wallet: a block from the node does not connect to the stored chain ({reason}); run `sync` again")]
    Connect {
        /// Which wallet.
        tier: Tier,
        /// What bdk said.
        reason: String,
    },
    /// The transaction could not be built (not enough funds, dust, …).
    #[error("cannot build the {what}: {reason}")]
    Build {
        /// What was being built.
        what: String,
        /// Why not.
        reason: String,
    },
    /// A proposal breaks a rule of the policy.
    #[error("refused by the vault policy: {0}; change the proposal to fit the policy")]
    Refused(#[from] Refusal),
    /// The next address of a wallet would lie beyond the policy's range.
    #[error("the {tier} wallet's next {chain} address would be index {index}, beyond the policy's max_index {max_index}: funds there would not be watched; adopt a policy with a higher max_index (the coordinator and the auditor then watch up to it)")]
    AddressRangeUsedUp {
        /// Which wallet.
        tier: Tier,
        /// `receive` or `change`.
        chain: &'static str,
        /// The index it would use.
        index: u32,
        /// The policy's highest index.
        max_index: u32,
    },
    /// An argument is wrong.
    #[error("{0}")]
    BadArgument(String),
    /// A payout CSV line is wrong.
    #[error("{path} line {line}: {reason}")]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line number (0 for the file as a whole).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A PSBT or transaction file could not be read.
    #[error("{path}: {reason}")]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A PSBT file is not one custodia reads.
    #[error("{path}: {source}")]
    Psbt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: crate::psbt::PsbtError,
    },
    /// A compact PSBT (from `--qr-compact` frames) that this vault's
    /// policy does not re-fill.
    #[error("{path}: {source}")]
    Compact {
        /// The file (or the frames' decoded copy).
        path: PathBuf,
        /// Why it was not re-filled.
        source: crate::psbt::compact::CompactError,
    },
    /// Devices alone make a quorum of the policy.
    #[error(transparent)]
    DevicesAlone(#[from] crate::policy::DevicesAloneError),
    /// A PSBT names another vault.
    #[error("{path} belongs to vault policy {found}, not to this coordinator's {expected}; use the coordinator of that vault")]
    OtherVault {
        /// The file.
        path: PathBuf,
        /// This coordinator's policy.
        expected: PolicyId,
        /// The PSBT's policy (or "no policy id").
        found: String,
    },
    /// Files to combine spend different transactions.
    #[error("{path} is for transaction {found}, but {first_path} is for {expected}; only copies of the same proposal can be combined")]
    DifferentTransactions {
        /// The first file.
        first_path: PathBuf,
        /// Its unsigned txid.
        expected: Txid,
        /// The odd file.
        path: PathBuf,
        /// Its unsigned txid.
        found: Txid,
    },
    /// Finalizing is not possible yet.
    #[error("cannot finalize yet: {0}")]
    NotReady(String),
    /// A proof of control was given to `finalize`: it spends a challenge no
    /// transaction has, so it is never a transaction.
    #[error("{0} is a proof of control, never a transaction: give the combined PSBT (`combine`) to the auditor (`custodia-auditor verify-proof`)")]
    ProofIsNoTransaction(bitcoin::Txid),
    /// A proof of control of a tier that holds no confirmed coin.
    #[error("the {0} wallet holds no confirmed coin to prove control of; run `sync` and check `balance`")]
    NothingToProve(crate::policy::Tier),
    /// The event log could not be written or does not verify.
    #[error(transparent)]
    Log(#[from] crate::audit::LogError),
    /// An output file could not be written (or already exists).
    #[error(transparent)]
    File(#[from] crate::transport::FileError),
    /// Reading or writing QR frames.
    #[error(transparent)]
    Qr(#[from] crate::transport::qr::QrError),
    /// A private file or directory of the data dir.
    #[error(transparent)]
    Private(#[from] crate::transport::PrivateFileError),
    /// The node refused the transaction.
    #[error("the node rejects transaction {txid}: {reason}; nothing was broadcast — run `sync` and `status`, and propose again if its coins were spent")]
    Rejected {
        /// The transaction.
        txid: Txid,
        /// The node's reject reason.
        reason: String,
    },
}

/// Why the coordinator refuses to write or finalize a movement.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Rules of the policy fail (the approval quorum aside, which is
    /// collected later).
    #[error("{}", failing_rules(.0))]
    Rules(Vec<RuleCheck>),
    /// The inputs are not one wallet's, so there is no one movement to judge.
    #[error("the transaction is not one movement of one vault wallet")]
    NotOneMovement,
    /// A cold→hot transfer would leave less than the policy's cold share.
    #[error("after this transfer cold would hold {:.2}% of the vault ({} of {}), below the minimum of {min_percent}%; move less", percent(*.cold_after, *.total_after), btc(*.cold_after), btc(*.total_after))]
    ColdRatio {
        /// Cold holdings once the transfer confirms.
        cold_after: Amount,
        /// Vault total once the transfer confirms.
        total_after: Amount,
        /// The policy's minimum cold share, in percent.
        min_percent: u8,
    },
}

fn failing_rules(checks: &[RuleCheck]) -> String {
    let parts: Vec<String> = checks
        .iter()
        .map(|f| format!("{} ({})", f.reason, f.rule.as_str()))
        .collect();
    parts.join("; ")
}

impl CoordinatorError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CoordinatorError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn bad_file(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        CoordinatorError::BadFile {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl Classify for CoordinatorError {
    fn exit_code(&self) -> ExitCode {
        use CoordinatorError::*;
        match self {
            Qr(e) => e.exit_code(),
            Log(e) => e.exit_code(),
            File(e) => e.exit_code(),
            Private(e) => e.exit_code(),
            Psbt { source, .. } => source.exit_code(),
            Compact { source, .. } => source.exit_code(),
            DevicesAlone(e) => e.exit_code(),
            Refused(_) | NotReady(_) | Rejected { .. } | AddressRangeUsedUp { .. } => {
                ExitCode::Refused
            }
            NotInitialized(_)
            | PolicyChanged { .. }
            | StoredPolicy { .. }
            | NodeSettings(_)
            | BadArgument(_)
            | Csv { .. }
            | BadFile { .. }
            | OtherVault { .. }
            | ProofIsNoTransaction(_)
            | DifferentTransactions { .. } => ExitCode::BadInput,
            Io { .. }
            | NodeUnreachable { .. }
            | WrongNetwork { .. }
            | NodeSyncing { .. }
            | Rpc { .. }
            | WalletDb { .. }
            | Connect { .. } => ExitCode::NodeOrIo,
            Build { .. } | NothingToProve(_) => ExitCode::Refused,
            Update(e) => e.exit_code(),
            UpdateNeeded { .. } | NotAnnounced { .. } | ChangeWaiting { .. } => ExitCode::Refused,
            AlreadyAnnounced { .. } | OtherSuccessor { .. } => ExitCode::BadInput,
        }
    }
}

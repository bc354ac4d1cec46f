//! The auditor's command line: its argument types. `custodia-auditor` parses
//! them, calls the library and prints the reports.

use std::path::PathBuf;

/// The auditor's commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum AuditorCommand {
    /// Balances per tier and the cold ratio, from the node's UTXO set, over
    /// every address up to the policy's max_index (exit 1 when the cold share
    /// is below the policy minimum).
    #[cfg(feature = "online")]
    Balances {
        /// The vault policy.
        #[arg(long, required_unless_present = "policy_qr")]
        policy: Option<PathBuf>,
        /// Or read the policy from QR frames (`custodia-coordinator policy qr`).
        #[arg(long, value_name = "FILE|DIR", num_args = 1..)]
        policy_qr: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Node connection.
        #[command(flatten)]
        node: crate::coordinator::NodeArgs,
    },
    /// Check every spend of a vault coin against the coordinator's log and
    /// the policy (exit 1 on any spend that does not reconcile).
    ///
    /// Walks the node's blocks from --from-height and its mempool. Each spend
    /// must have been proposed under a policy given, the destinations and
    /// amount rules must hold on chain, and a cold→hot transfer must carry
    /// the approvals the policy requires, verified from the signatures the
    /// coordinator logged. Signer logs given are checked against the
    /// coordinator's log as `log verify` does.
    #[cfg(feature = "online")]
    Reconcile {
        /// What to reconcile.
        #[command(flatten)]
        args: ReconcileArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write the daily report (Markdown, JSON and an SVG chart) into a
    /// directory: balances, the cold ratio, every spend reconciled, the logs'
    /// heads and the holdings per day from the chain (exit 1 on a finding;
    /// the report is written all the same).
    #[cfg(feature = "online")]
    Report {
        /// What to reconcile.
        #[command(flatten)]
        args: ReconcileArgs,
        /// How many days the holdings chart covers.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// The customers' balances, to report reserves coverage.
        #[arg(long, requires = "salt_secret")]
        liabilities: Option<PathBuf>,
        /// The exchange's salt secret (with --liabilities).
        #[arg(long)]
        salt_secret: Option<PathBuf>,
        /// The directory to write report.md, report.json and balances.svg
        /// into (created if missing; existing files are never replaced).
        #[arg(long, short = 'o')]
        out: PathBuf,
    },
    /// Assets from the chain against the customers' liabilities, with the
    /// Merkle-sum root to publish (exit 1 when assets fall short).
    #[cfg(feature = "online")]
    Reserves {
        /// What to read.
        #[command(flatten)]
        reserves: ReservesArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verify a proof of control (`custodia-coordinator propose proof`,
    /// signed and combined) for your challenge message against the node's
    /// UTXO set: every coin unspent as claimed, its quorum's signatures
    /// complete (exit 1 if it does not hold).
    #[cfg(feature = "online")]
    VerifyProof(VerifyProofArgs),
    /// Write one customer's inclusion proof (no node needed).
    Inclusion(InclusionArgs),
    /// Check an inclusion proof against the published root (no node, no
    /// policy: what a customer runs; exit 1 if it does not verify).
    VerifyInclusion {
        /// The proof file.
        proof: PathBuf,
        /// The Merkle-sum root the exchange published (64 hex characters).
        #[arg(long)]
        root: Root,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check custodia logs (signers' and the coordinator's); exit 1 naming
    /// the first line that was changed, or a signer log cut short or signing
    /// what the coordinator never proposed.
    #[command(subcommand)]
    Log(LogCommand),
}

/// What `verify-proof` reads.
#[cfg(feature = "online")]
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyProofArgs {
    /// The combined proof PSBT.
    pub file: PathBuf,
    /// The challenge message you gave the exchange.
    #[arg(long)]
    pub message: crate::psbt::proof::ProofMessage,
    /// The vault policy.
    #[arg(long)]
    pub policy: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Node connection.
    #[command(flatten)]
    pub node: crate::coordinator::NodeArgs,
}

/// What `reserves` reads.
#[cfg(feature = "online")]
#[derive(Debug, Clone, clap::Args)]
pub struct ReservesArgs {
    /// The vault policy.
    #[arg(long)]
    pub policy: PathBuf,
    /// The customers' balances: `customer,amount` lines (e.g. `c-1,0.5 BTC`).
    #[arg(long)]
    pub liabilities: PathBuf,
    /// The exchange's salt secret (32+ random bytes, readable by its owner
    /// only); the same file makes the same root and proofs.
    #[arg(long)]
    pub salt_secret: PathBuf,
    /// Node connection.
    #[command(flatten)]
    pub node: crate::coordinator::NodeArgs,
}

/// What `inclusion` reads and writes.
#[derive(Debug, Clone, clap::Args)]
pub struct InclusionArgs {
    /// The customers' balances.
    #[arg(long)]
    pub liabilities: PathBuf,
    /// The exchange's salt secret.
    #[arg(long)]
    pub salt_secret: PathBuf,
    /// The customer.
    #[arg(long)]
    pub customer: crate::audit::reserves::CustomerId,
    /// The proof file to write (never replaced).
    #[arg(long, short = 'o')]
    pub out: PathBuf,
}

/// A Merkle-sum root given on the command line.
#[derive(Debug, Clone, Copy)]
pub struct Root(pub [u8; 32]);

impl std::str::FromStr for Root {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Root, &'static str> {
        crate::audit::reserves::parse_hex_32(s)
            .map(Root)
            .ok_or("expected 64 hex characters")
    }
}

/// Writes `proof` as JSON to a new file.
pub fn write_proof(
    path: &std::path::Path,
    proof: &crate::audit::reserves::InclusionProof,
) -> Result<(), crate::transport::FileError> {
    let json = serde_json::to_string_pretty(proof).expect("a proof serializes") + "\n";
    crate::transport::write_new_atomically(path, json.as_bytes())
}

/// What a customer reads when their proof verifies.
pub fn proof_text(p: &crate::audit::reserves::InclusionProof) -> String {
    format!(
        "OK: customer {} is included with {} in root {}, whose total liabilities are {}\n",
        p.customer,
        crate::policy::btc(p.amount),
        crate::audit::reserves::hex(&p.root),
        crate::policy::btc(p.total)
    )
}

/// What `reconcile` and `report` read.
#[cfg(feature = "online")]
#[derive(Debug, Clone, clap::Args)]
pub struct ReconcileArgs {
    /// The vault policy; repeat for each policy the vault has had (the
    /// first is the current one, whose balances are reported).
    #[arg(long, required = true)]
    pub policy: Vec<PathBuf>,
    /// The coordinator's log (`events.jsonl` of its data dir).
    #[arg(long)]
    pub log: PathBuf,
    /// Signer logs (`log.jsonl`), checked against the coordinator's log.
    #[arg(long)]
    pub signer_log: Vec<PathBuf>,
    /// The first block to walk: the vault's birth height (default 0).
    /// Coins funded earlier are still recognised by their witness, but
    /// their amounts are not known.
    #[arg(long, default_value_t = 0)]
    pub from_height: u64,
    /// Node connection.
    #[command(flatten)]
    pub node: crate::coordinator::NodeArgs,
}

/// Writes the daily report's three files into `dir` (created if missing),
/// never replacing a file; the paths written.
pub fn write_report(
    dir: &std::path::Path,
    report: &crate::audit::daily_report::DailyReport,
) -> Result<Vec<PathBuf>, crate::transport::FileError> {
    std::fs::create_dir_all(dir).map_err(|source| crate::transport::FileError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let json = serde_json::to_string_pretty(report).expect("a report serializes") + "\n";
    let files = [
        ("report.md", report.to_markdown()),
        ("report.json", json),
        ("balances.svg", report.chart_svg()),
    ];
    // Refuse before writing anything, so a second run leaves the first whole.
    for (name, _) in &files {
        let path = dir.join(name);
        if path.exists() {
            return Err(crate::transport::FileError::Exists(path));
        }
    }
    let mut written = Vec::new();
    for (name, content) in files {
        let path = dir.join(name);
        crate::transport::write_new_atomically(&path, content.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// `custodia-auditor log …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum LogCommand {
    /// Verify the hash chain of each log, then that every signer log head the
    /// coordinator recorded is still in that signer's log and that every
    /// signature a signer logged is of a transaction the coordinator
    /// proposed.
    Verify {
        /// The logs (`log.jsonl` of signers, `events.jsonl` of the coordinator).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[cfg(feature = "online")]
mod gather;
#[cfg(feature = "online")]
pub use gather::{node_for, reconciled, verify_proof, AuditFinding, GatherError, Reconciled};

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
        /// The directory to write report.md, report.json and balances.svg
        /// into (created if missing; existing files are never replaced).
        #[arg(long, short = 'o')]
        out: PathBuf,
    },
    /// Check custodia logs (signers' and the coordinator's); exit 1 naming
    /// the first line that was changed, or a signer log cut short or signing
    /// what the coordinator never proposed.
    #[command(subcommand)]
    Log(LogCommand),
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

//! custodia-auditor: checks a vault from its public policy and a node alone.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use custodia::audit::{EventLog, HeadCheck, LogVerification, NamedLog};

/// Independent checks of a custodia vault: balances and cold ratio straight
/// from the UTXO set, and the integrity of custodia's hash-chained logs.
#[derive(Parser)]
#[command(name = "custodia-auditor", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
        #[command(flatten)]
        node: custodia::coordinator::NodeArgs,
    },
    /// Check custodia logs (signers' and the coordinator's); exit 1 naming
    /// the first line that was changed, or a signer log cut short.
    #[command(subcommand)]
    Log(LogCommand),
}

#[derive(Subcommand)]
enum LogCommand {
    /// Verify the hash chain of each log, then that every signer log head the
    /// coordinator recorded is still in that signer's log.
    Verify {
        /// The logs (`log.jsonl` of signers, `events.jsonl` of the coordinator).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        #[cfg(feature = "online")]
        Command::Balances {
            policy,
            policy_qr,
            json,
            node,
        } => {
            use custodia::audit::audit_balances;
            use custodia::coordinator::{Node, NodeSettings};
            use custodia::policy::VaultPolicy;
            let policy = match policy {
                Some(file) => VaultPolicy::load(&file)?,
                None => VaultPolicy::from_toml(&custodia::transport::qr::read_text(&policy_qr)?)?,
            };
            let settings = NodeSettings::default().overridden_by(&node);
            let (node, _) = Node::connect(&settings, policy.network())?;
            let scanner = custodia::audit::CoreScanner::new(node.client());
            let report = audit_balances(&policy, &scanner)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
            match report.finding() {
                Some(finding) => Err(finding.into()),
                None => Ok(()),
            }
        }
        Command::Log(LogCommand::Verify { files, json }) => {
            let mut logs = Vec::with_capacity(files.len());
            for file in files {
                if !file.exists() {
                    anyhow::bail!(
                        "{} does not exist; give the path of a custodia log",
                        file.display()
                    );
                }
                let log = EventLog::new(&file).verify()?;
                logs.push(NamedLog { path: file, log });
            }
            let heads = HeadCheck::of(&logs)?;
            let reports = logs
                .iter()
                .map(|l| LogVerification::of(&l.path, &l.log))
                .collect::<Result<Vec<_>, _>>()?;
            if json {
                let v = serde_json::json!({"logs": reports, "signer_heads": heads});
                println!("{v}");
            } else {
                reports.iter().for_each(|r| print!("{}", r.to_text()));
                print!("{}", heads.to_text());
            }
            match heads.finding() {
                Some(finding) => Err(finding.into()),
                None => Ok(()),
            }
        }
    }
}

fn main() -> ExitCode {
    custodia::cli::main_with(|| run(Cli::parse()))
}

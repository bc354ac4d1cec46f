//! custodia-auditor: checks a vault from its public policy and a node alone.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use custodia::audit::EventLog;

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
    /// Balances per tier and the cold ratio, from the node's UTXO set (exit 1
    /// when the cold share is below the policy minimum).
    #[cfg(feature = "online")]
    Balances {
        /// The vault policy.
        #[arg(long)]
        policy: PathBuf,
        /// Highest address index to scan on each chain.
        #[arg(long, default_value_t = 1000)]
        last_index: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: custodia::coordinator::NodeArgs,
    },
    /// Check a custodia log (a signer's or the coordinator's); exit 1 naming
    /// the first line that was changed.
    #[command(subcommand)]
    Log(LogCommand),
}

#[derive(Subcommand)]
enum LogCommand {
    /// Verify the hash chain of a log file.
    Verify {
        /// The log (`log.jsonl` of a signer, `events.jsonl` of the coordinator).
        file: PathBuf,
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
            last_index,
            json,
            node,
        } => {
            use custodia::audit::audit_balances;
            use custodia::coordinator::{Node, NodeSettings};
            use custodia::policy::VaultPolicy;
            let policy = VaultPolicy::load(&policy)?;
            let settings = NodeSettings::default().overridden_by(&node);
            let (node, _) = Node::connect(&settings, policy.network())?;
            let scanner = custodia::audit::CoreScanner::new(node.client());
            let report = audit_balances(&policy, &scanner, last_index)?;
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
        Command::Log(LogCommand::Verify { file, json }) => {
            if !file.exists() {
                anyhow::bail!(
                    "{} does not exist; give the path of a custodia log",
                    file.display()
                );
            }
            let verified = EventLog::new(&file).verify()?;
            if json {
                let v = serde_json::json!({"file": file, "valid": true, "entries": verified.entries.len(), "head": verified.head()});
                println!("{v}");
            } else {
                println!(
                    "ok: {} entries, chain intact; head {} (write it down to anchor the log)",
                    verified.entries.len(),
                    verified.head()
                );
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    custodia::cli::main_with(|| run(Cli::parse()))
}

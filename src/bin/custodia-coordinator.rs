//! custodia-coordinator: the online, watch-only side of a custodia vault.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use custodia::policy::{PolicyReport, VaultPolicy};
use custodia::ui::coordinator::{GlobalArgs, VaultCommand};

/// Watch the vault, propose movements, collect approvals and signatures, broadcast.
#[derive(Parser)]
#[command(name = "custodia-coordinator", version, about)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check, show or export a vault policy file.
    #[command(subcommand)]
    Policy(PolicyCommand),
    #[command(flatten)]
    Vault(VaultCommand),
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Validate a policy; prints its id, exits 2 naming the first problem.
    Check {
        /// The policy file.
        file: PathBuf,
        /// Accept a policy in which signing devices alone make a quorum.
        #[arg(long)]
        i_understand_devices_enforce_nothing: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the policy id, wallets, quorum rules and descriptors.
    Show {
        /// The policy file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the descriptors with checksums, ready to import into Bitcoin Core or Sparrow.
    Descriptors {
        /// The policy file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Export the policy as QR frames (text) for `custodia-signer register --qr-in`.
    Qr {
        /// The policy file (validated first).
        file: PathBuf,
        #[command(flatten)]
        frames: custodia::ui::qr::PolicyFrames,
    },
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Vault(cmd) => custodia::ui::coordinator::run(cli.global, cmd)?,
        Command::Policy(PolicyCommand::Qr { file, frames }) => {
            VaultPolicy::load(&file)?;
            custodia::ui::qr::run(frames.encode(file))?
        }
        Command::Policy(cmd) => {
            let (file, json) = match &cmd {
                PolicyCommand::Check { file, json, .. }
                | PolicyCommand::Show { file, json }
                | PolicyCommand::Descriptors { file, json } => (file, *json),
                PolicyCommand::Qr { .. } => unreachable!("handled above"),
            };
            let policy = VaultPolicy::load(file)?;
            if let PolicyCommand::Check {
                i_understand_devices_enforce_nothing: u,
                ..
            } = &cmd
            {
                policy.check_devices(*u)?;
            }
            let report = PolicyReport::new(&policy);
            let r = &report;
            match (cmd, json) {
                (PolicyCommand::Check { .. }, false) => {
                    println!("ok: {} ({}) policy id {}", r.vault, r.network, r.policy_id);
                    r.device_warnings
                        .iter()
                        .for_each(|w| println!("WARNING: {w}"));
                }
                (PolicyCommand::Check { .. }, true) => println!(
                    "{}",
                    serde_json::json!({"valid": true, "vault": r.vault, "network": r.network, "policy_id": r.policy_id, "device_warnings": r.device_warnings})
                ),
                (PolicyCommand::Show { .. }, false) => print!("{}", report.to_text()),
                (PolicyCommand::Descriptors { .. }, false) => {
                    print!("{}", report.descriptors_text())
                }
                (PolicyCommand::Qr { .. }, false) => unreachable!("handled above"),
                (_, true) => println!("{}", serde_json::to_string_pretty(&report)?),
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    custodia::cli::main_with(|| run(custodia::cli::parse::<Cli>()))
}

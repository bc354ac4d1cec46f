//! custodia-coordinator: the online, watch-only side of a custodia vault.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use custodia::ui::coordinator::{GlobalArgs, VaultCommand};
use custodia::ui::policy::PolicyCommand;

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
    /// Check, show or export a vault policy file, or add a cosigner's key.
    #[command(subcommand)]
    Policy(PolicyCommand),
    #[command(flatten)]
    Vault(VaultCommand),
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Vault(cmd) => custodia::ui::coordinator::run(cli.global, cmd)?,
        Command::Policy(cmd) => custodia::ui::policy::run(cmd)?,
    }
    Ok(())
}

fn main() -> ExitCode {
    custodia::cli::main_with(|| run(custodia::cli::parse::<Cli>()))
}

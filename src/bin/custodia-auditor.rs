//! custodia-auditor: checks a vault from its public policy and a node alone.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use custodia::audit::{EventLog, HeadCheck, LogVerification, NamedLog, SignatureCheck};
use custodia::ui::auditor::{AuditorCommand, LogCommand};
use custodia::ui::output;

/// Independent checks of a custodia vault: balances and cold ratio straight
/// from the UTXO set, every vault spend reconciled with the logs, and the
/// integrity of custodia's hash-chained logs.
#[derive(Parser)]
#[command(name = "custodia-auditor", version, about)]
struct Cli {
    #[command(subcommand)]
    command: AuditorCommand,
}

/// Reads and verifies logs, refusing a path that does not exist.
fn read_logs(files: &[PathBuf]) -> Result<Vec<NamedLog>> {
    files.iter().map(|f| read_log(f)).collect()
}

fn read_log(file: &Path) -> Result<NamedLog> {
    if !file.exists() {
        anyhow::bail!(
            "{} does not exist; give the path of a custodia log",
            file.display()
        );
    }
    let log = EventLog::new(file).verify()?;
    Ok(NamedLog {
        path: file.to_owned(),
        log,
    })
}

#[cfg(feature = "online")]
fn node_for(
    node: &custodia::coordinator::NodeArgs,
    network: bitcoin::Network,
) -> Result<custodia::coordinator::Node> {
    let settings = custodia::coordinator::NodeSettings::default().overridden_by(node);
    Ok(custodia::coordinator::Node::connect(&settings, network)?.0)
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        #[cfg(feature = "online")]
        AuditorCommand::Balances {
            policy,
            policy_qr,
            json,
            node,
        } => {
            use custodia::policy::VaultPolicy;
            let policy = match policy {
                Some(file) => VaultPolicy::load(&file)?,
                None => VaultPolicy::from_toml(&custodia::transport::qr::read_text(&policy_qr)?)?,
            };
            let node = node_for(&node, policy.network())?;
            let scanner = custodia::audit::CoreScanner::new(node.client());
            let report = custodia::audit::audit_balances(&policy, &scanner)?;
            output(json, &report, &report.to_text())?;
            report.finding().map_or(Ok(()), |f| Err(f.into()))
        }
        #[cfg(feature = "online")]
        AuditorCommand::Reconcile {
            policy,
            log,
            signer_log,
            from_height,
            json,
            node,
        } => {
            use custodia::audit::reconcile::reconcile;
            let policies = policy
                .iter()
                .map(|p| custodia::policy::VaultPolicy::load(p))
                .collect::<Result<Vec<_>, _>>()?;
            let mut logs = vec![read_log(&log)?];
            logs.extend(read_logs(&signer_log)?);
            let heads = HeadCheck::of(&logs)?;
            let signatures = SignatureCheck::of(&logs)?;
            let node = node_for(&node, policies[0].network())?;
            let history = custodia::audit::CoreHistory::new(node.client());
            let report = reconcile(&policies, &logs[0].log, &history, from_height)?;
            let text = report.to_text() + &heads.to_text() + &signatures.to_text();
            let all = serde_json::json!({"reconcile": report, "signer_heads": heads, "signatures": signatures});
            output(json, &all, &text)?;
            if let Some(f) = report.finding() {
                return Err(f.into());
            }
            if let Some(f) = heads.finding() {
                return Err(f.into());
            }
            signatures.finding().map_or(Ok(()), |f| Err(f.into()))
        }
        AuditorCommand::Log(LogCommand::Verify { files, json }) => {
            let logs = read_logs(&files)?;
            let heads = HeadCheck::of(&logs)?;
            let signatures = SignatureCheck::of(&logs)?;
            let reports = logs
                .iter()
                .map(|l| LogVerification::of(&l.path, &l.log))
                .collect::<Result<Vec<_>, _>>()?;
            if json {
                let v = serde_json::json!({"logs": reports, "signer_heads": heads, "signatures": signatures});
                println!("{v}");
            } else {
                reports.iter().for_each(|r| print!("{}", r.to_text()));
                print!("{}{}", heads.to_text(), signatures.to_text());
            }
            if let Some(f) = heads.finding() {
                return Err(f.into());
            }
            signatures.finding().map_or(Ok(()), |f| Err(f.into()))
        }
    }
}

fn main() -> ExitCode {
    custodia::cli::main_with(|| run(Cli::parse()))
}

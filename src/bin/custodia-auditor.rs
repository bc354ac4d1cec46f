//! custodia-auditor: checks a vault from its public policy and a node alone.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use custodia::audit::{HeadCheck, LogVerification, NamedLog, SignatureCheck};
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

#[cfg(feature = "online")]
type Reconciled = (
    Vec<custodia::policy::VaultPolicy>,
    Vec<NamedLog>,
    HeadCheck,
    SignatureCheck,
    custodia::audit::reconcile::Reconciliation,
);

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
        AuditorCommand::Reconcile { args, json } => {
            let (_, _, heads, signatures, report) = reconciled(&args)?;
            let text = report.to_text() + &heads.to_text() + &signatures.to_text();
            let all = serde_json::json!({"reconcile": report, "signer_heads": heads, "signatures": signatures});
            output(json, &all, &text)?;
            if let Some(f) = report.finding() {
                return Err(f.into());
            }
            findings(&heads, &signatures)
        }
        #[cfg(feature = "online")]
        AuditorCommand::Report { args, days, out } => {
            use custodia::audit::daily_report::DailyReport;
            let (policies, logs, heads, signatures, reconcile) = reconciled(&args)?;
            let node = node_for(&args.node, policies[0].network())?;
            let scanner = custodia::audit::CoreScanner::new(node.client());
            let balances = custodia::audit::audit_balances(&policies[0], &scanner)?;
            let report = DailyReport::new(
                &policies[0],
                balances,
                reconcile,
                &logs,
                heads,
                signatures,
                days,
            );
            for path in custodia::ui::auditor::write_report(&out, &report)? {
                println!("wrote {}", path.display());
            }
            report.finding().map_or(Ok(()), |f| Err(f.into()))
        }
        AuditorCommand::Log(LogCommand::Verify { files, json }) => {
            let logs = files
                .iter()
                .map(|f| NamedLog::read(f))
                .collect::<Result<Vec<_>, _>>()?;
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
            findings(&heads, &signatures)
        }
    }
}

/// The first finding of the logs' cross-checks, as the error to exit with.
fn findings(heads: &HeadCheck, signatures: &SignatureCheck) -> Result<()> {
    match (heads.finding(), signatures.finding()) {
        (Some(f), _) => Err(f.into()),
        (None, f) => f.map_or(Ok(()), |f| Err(f.into())),
    }
}

/// Reads the policies and logs of `args`, cross-checks the logs and
/// reconciles the chain with them.
#[cfg(feature = "online")]
fn reconciled(args: &custodia::ui::auditor::ReconcileArgs) -> Result<Reconciled> {
    let policies = args
        .policy
        .iter()
        .map(|p| custodia::policy::VaultPolicy::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut logs = vec![NamedLog::read(&args.log)?];
    for f in &args.signer_log {
        logs.push(NamedLog::read(f)?);
    }
    let heads = HeadCheck::of(&logs)?;
    let signatures = SignatureCheck::of(&logs)?;
    let node = node_for(&args.node, policies[0].network())?;
    let history = custodia::audit::CoreHistory::new(node.client());
    let report =
        custodia::audit::reconcile::reconcile(&policies, &logs[0].log, &history, args.from_height)?;
    Ok((policies, logs, heads, signatures, report))
}

fn main() -> ExitCode {
    custodia::cli::main_with(|| run(Cli::parse()))
}

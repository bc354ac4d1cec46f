//! custodia-auditor: checks a vault from its public policy and a node alone.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use custodia::audit::reserves::{read_proof, Liabilities};
use custodia::audit::{HeadCheck, LogVerification, NamedLog, SignatureCheck};
#[cfg(feature = "online")]
use custodia::ui::auditor::{node_for, reconciled};
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
            let r = reconciled(&args)?;
            output(json, &r.to_json(), &r.to_text())?;
            r.finding().map_or(Ok(()), |f| Err(f.into()))
        }
        #[cfg(feature = "online")]
        AuditorCommand::Report {
            args,
            days,
            out,
            liabilities,
            salt_secret,
        } => {
            use custodia::audit::daily_report::DailyReport;
            // Bad input first, before the chain is walked.
            let owed = match (liabilities, salt_secret) {
                (Some(csv), Some(secret)) => Some(Liabilities::read(&csv, &secret)?),
                _ => None,
            };
            let r = reconciled(&args)?;
            let policy = &r.policies[0];
            let node = node_for(&args.node, policy.network())?;
            let scanner = custodia::audit::CoreScanner::new(node.client());
            let balances = custodia::audit::audit_balances(policy, &scanner)?;
            let checks = (r.heads.clone(), r.signatures.clone());
            let (rec, logs) = (r.reconciliation.clone(), &r.logs);
            let report = DailyReport::new(policy, balances, rec, logs, checks, owed.as_ref(), days);
            for path in custodia::ui::auditor::write_report(&out, &report)? {
                println!("wrote {}", path.display());
            }
            report.finding().map_or(Ok(()), |f| Err(f.into()))
        }
        #[cfg(feature = "online")]
        AuditorCommand::Reserves { reserves, json } => {
            let policy = custodia::policy::VaultPolicy::load(&reserves.policy)?;
            let liabilities = Liabilities::read(&reserves.liabilities, &reserves.salt_secret)?;
            let node = node_for(&reserves.node, policy.network())?;
            let scanner = custodia::audit::CoreScanner::new(node.client());
            let balances = custodia::audit::audit_balances(&policy, &scanner)?;
            let report = custodia::audit::reserves::ReservesReport::new(&balances, &liabilities);
            output(json, &report, &report.to_text())?;
            report.finding().map_or(Ok(()), |f| Err(f.into()))
        }
        #[cfg(feature = "online")]
        AuditorCommand::VerifyProof(args) => {
            let v = custodia::ui::auditor::verify_proof(&args)?;
            output(args.json, &v, &v.to_text())?;
            v.finding().map_or(Ok(()), |f| Err(f.into()))
        }
        AuditorCommand::Inclusion(i) => {
            let proof = Liabilities::read(&i.liabilities, &i.salt_secret)?.proof(&i.customer)?;
            custodia::ui::auditor::write_proof(&i.out, &proof)?;
            println!("wrote {} for customer {}", i.out.display(), i.customer);
            Ok(())
        }
        AuditorCommand::VerifyInclusion { proof, root, json } => {
            let p = read_proof(&proof)?;
            p.verify(&root.0)?;
            let text = custodia::ui::auditor::proof_text(&p);
            output(json, &p, &text).map_err(Into::into)
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

fn main() -> ExitCode {
    custodia::cli::main_with(|| run(custodia::cli::parse::<Cli>()))
}

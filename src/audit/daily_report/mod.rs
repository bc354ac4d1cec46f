//! The daily report: one document an auditor files each day, taken at one
//! tip — balances per tier from the UTXO set, the cold ratio against the
//! policy, every vault spend reconciled with the logs, the logs' heads and
//! cross-checks, and the holdings over the last days from the chain (never
//! from the coordinator), as Markdown, JSON and an SVG chart.

mod chart;
mod markdown;

use std::path::PathBuf;

use bitcoin::{Amount, BlockHash};
use serde::Serialize;

use super::balances::BalanceReport;
use super::heads::{HeadCheck, NamedLog};
use super::reconcile::{Reconciliation, SpendFinding};
use super::reserves::{Liabilities, ReservesReport};
use super::signatures::SignatureCheck;
use super::time::utc_timestamp;
use crate::error::{Classify, ExitCode};
use crate::policy::VaultPolicy;

/// One log given, and where it ends.
#[derive(Debug, Clone, Serialize)]
pub struct LogHead {
    /// The file.
    pub path: PathBuf,
    /// Its entries.
    pub entries: usize,
    /// The hash of its last entry: write it down to detect a later rewrite.
    pub head: String,
}

/// The vault's holdings at the end of one day (UTC), from the chain.
#[derive(Debug, Clone, Serialize)]
pub struct DayPoint {
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// The last block of that day walked.
    pub height: u64,
    /// Cold holdings.
    #[serde(rename = "cold_sat", with = "bitcoin::amount::serde::as_sat")]
    pub cold: Amount,
    /// Hot holdings.
    #[serde(rename = "hot_sat", with = "bitcoin::amount::serde::as_sat")]
    pub hot: Amount,
    /// Cold share in percent (100 for an empty vault).
    pub cold_percent: f64,
}

/// The daily report.
#[derive(Debug, Clone, Serialize)]
pub struct DailyReport {
    /// When it was taken: the tip's height.
    pub tip_height: u64,
    /// The tip's hash.
    pub tip_hash: BlockHash,
    /// The tip's time, UTC.
    pub tip_time: String,
    /// Balances per tier and the cold ratio, from the UTXO set.
    pub balances: BalanceReport,
    /// Every vault spend since the first height walked.
    pub reconcile: Reconciliation,
    /// Each spend that does not reconcile.
    pub findings: Vec<SpendFinding>,
    /// The logs given and their heads.
    pub logs: Vec<LogHead>,
    /// Signer log heads the coordinator recorded, checked.
    pub signer_heads: HeadCheck,
    /// Signatures signers logged, checked against the proposals.
    pub signatures: SignatureCheck,
    /// Assets against customers' liabilities, when the liabilities were given.
    pub reserves: Option<ReservesReport>,
    /// Holdings at the end of each of the last days.
    pub days: Vec<DayPoint>,
    /// The policy minimum of the cold share, for the chart.
    pub cold_min_percent: u8,
}

/// A report with findings (exit code 1); the report is written all the same.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the daily report has {0} finding(s); they are listed in the report")]
pub struct ReportFindings(pub usize);

impl Classify for ReportFindings {
    fn exit_code(&self) -> ExitCode {
        ExitCode::Refused
    }
}

impl DailyReport {
    /// Puts the parts together; `days` is how many days the chart covers.
    pub fn new(
        policy: &VaultPolicy,
        balances: BalanceReport,
        reconcile: Reconciliation,
        logs: &[NamedLog],
        (signer_heads, signatures): (HeadCheck, SignatureCheck),
        liabilities: Option<&Liabilities>,
        days: u32,
    ) -> DailyReport {
        let day_points = last_days(&reconcile, days);
        let reserves = liabilities.map(|l| ReservesReport::new(&balances, l));
        DailyReport {
            tip_height: reconcile.tip_height,
            tip_hash: reconcile.tip_hash,
            tip_time: utc_timestamp(reconcile.tip_time),
            findings: reconcile.findings(),
            balances,
            logs: logs
                .iter()
                .map(|l| LogHead {
                    path: l.path.clone(),
                    entries: l.log.entries.len(),
                    head: l.log.head().to_owned(),
                })
                .collect(),
            reserves,
            signer_heads,
            signatures,
            days: day_points,
            cold_min_percent: policy.rules().ratio().cold_min_percent(),
            reconcile,
        }
    }

    /// How many findings the report makes: the cold ratio, spends that do
    /// not reconcile, signer logs cut short, signatures never proposed.
    pub fn finding_count(&self) -> usize {
        usize::from(self.balances.finding().is_some())
            + usize::from(self.reserves.as_ref().is_some_and(|r| !r.covered))
            + self.findings.len()
            + self.signer_heads.missing.len()
            + self.signatures.unproposed.len()
    }

    /// The finding to exit with, if any.
    pub fn finding(&self) -> Option<ReportFindings> {
        let n = self.finding_count();
        (n > 0).then_some(ReportFindings(n))
    }

    /// The report as Markdown.
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }

    /// The chart of cold and hot holdings and the cold share, as SVG.
    pub fn chart_svg(&self) -> String {
        chart::render(&self.days, self.cold_min_percent)
    }
}

/// The holdings at the end of each UTC day, for the last `days` days up to
/// the tip's day.
fn last_days(reconcile: &Reconciliation, days: u32) -> Vec<DayPoint> {
    let mut points: Vec<DayPoint> = Vec::new();
    for b in &reconcile.balances {
        let date = utc_timestamp(b.time)[..10].to_owned();
        let total = b.cold.to_sat() + b.hot.to_sat();
        let cold_percent = match total {
            0 => 100.0,
            t => (b.cold.to_sat() as f64 * 10_000.0 / t as f64).round() / 100.0,
        };
        let point = DayPoint {
            date,
            height: b.height,
            cold: b.cold,
            hot: b.hot,
            cold_percent,
        };
        match points.last_mut() {
            Some(last) if last.date == point.date => *last = point,
            _ => points.push(point),
        }
    }
    let keep = points.len().saturating_sub(days as usize);
    points.split_off(keep)
}

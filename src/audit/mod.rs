//! Audit: tamper-evident logs (and, later, balances, reserves, reconciliation).

mod balances;
#[cfg(feature = "online")]
mod core;
mod log;
mod time;

pub use balances::{
    audit_balances, BalanceReport, RatioFinding, ScannedOutput, TierBalance, UtxoScanner,
};
#[cfg(feature = "online")]
pub use core::{CoreScanner, ScanError};
pub use log::{EventLog, LogEntry, LogError, VerifiedLog};
pub use time::{now_unix, utc_day, utc_timestamp};

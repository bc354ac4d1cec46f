//! Audit: tamper-evident logs (and, later, balances, reserves, reconciliation).

mod log;
mod time;

pub use log::{EventLog, LogEntry, LogError, VerifiedLog};
pub use time::{utc_day, utc_timestamp};

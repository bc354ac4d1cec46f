//! Audit: tamper-evident logs (and, later, balances, reserves, reconciliation).

mod balances;
#[cfg(feature = "online")]
mod core;
mod event;
mod heads;
mod log;
mod time;
mod verification;

pub use balances::{
    audit_balances, BalanceReport, RatioFinding, ScannedOutput, TierBalance, UtxoScanner,
};
#[cfg(feature = "online")]
pub use core::{CoreScanner, ScanError};
pub use event::{
    Abandoned, ApprovalKeyStored, ApprovalSeen, Approved, BackupWritten, Broadcast, Combined,
    Event, Finalized, PolicyAction, PolicyAdopted, Proposed, ProposedOutput, Registered,
    ReplacedSignatureLogged, SeedCreated, Signed, SignerHead, SignerHeadSeen,
};
pub use heads::{HeadCheck, MissingHead, MissingHeadsFinding, NamedLog};
pub use log::{EventLog, LockedLog, LogEntry, LogError, VerifiedLog};
pub use time::{now_unix, utc_timestamp};
pub use verification::LogVerification;

//! Audit: tamper-evident logs, balances from the UTXO set, and the
//! reconciliation of every vault spend with the logs.

mod balances;
#[cfg(feature = "online")]
mod core;
pub mod daily_report;
mod event;
mod governance;
mod heads;
mod log;
pub mod reconcile;
pub mod reserves;
mod signatures;
mod time;
mod unspent;
mod verification;

pub use balances::{
    audit_balances, BalanceReport, RatioFinding, ScannedOutput, TierBalance, UtxoScanner,
};
#[cfg(feature = "online")]
pub use core::{CoreHistory, CoreScanner, HistoryError, ScanError};
pub use event::{
    Abandoned, ApprovalKeyStored, ApprovalSeen, Approved, BackupWritten, Broadcast, Combined,
    Event, Finalized, KeyRetired, PassphraseChanged, PolicyAction, PolicyAdopted, PolicyAnnounced,
    PolicyRetired, Proposed, ProposedOutput, Registered, ReplacedSignatureLogged, SeedCreated,
    Signed, SignerHead, SignerHeadSeen, UpdateApproved,
};
pub use governance::{PolicyChange, PolicyChanges, UngovernedChangeFinding};
pub use heads::{HeadCheck, MissingHead, MissingHeadsFinding, NamedLog};
pub use log::{EventLog, LockedLog, LogEntry, LogError, VerifiedLog};
pub use signatures::{SignatureCheck, UnproposedSignature, UnproposedSignaturesFinding};
pub use time::{now_unix, utc_timestamp};
pub use unspent::UnspentOutputs;
pub use verification::LogVerification;

//! The result of verifying one log, as all three programs report it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use bitcoin::bip32::Fingerprint;
use serde::Serialize;

use super::log::{LogError, VerifiedLog};

/// One log checked: whether its chain holds, how long it is, its head (to
/// write down as an anchor) and, for a signer's log, whose it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogVerification {
    /// The log file.
    pub file: PathBuf,
    /// Whether every line checked out.
    pub valid: bool,
    /// Entries, when valid.
    pub entries: usize,
    /// Hash of the newest entry, when valid.
    pub head: Option<String>,
    /// The signer whose log it is, when it is a signer's.
    pub signer: Option<Fingerprint>,
    /// The first line that does not check out, when the chain is broken there.
    pub line: Option<u64>,
    /// What is wrong, when not valid.
    pub error: Option<String>,
}

impl LogVerification {
    /// The report of a log that verified.
    pub fn of(file: &Path, log: &VerifiedLog) -> Result<Self, LogError> {
        Ok(LogVerification {
            file: file.to_owned(),
            valid: true,
            entries: log.entries.len(),
            head: Some(log.head().to_owned()),
            signer: log.signer()?,
            line: None,
            error: None,
        })
    }

    /// The report of a log that did not verify.
    pub fn failed(file: &Path, error: &LogError) -> Self {
        LogVerification {
            file: file.to_owned(),
            valid: false,
            entries: 0,
            head: None,
            signer: None,
            line: match error {
                LogError::Tampered { line, .. } => Some(*line),
                _ => None,
            },
            error: Some(error.to_string()),
        }
    }

    /// One line for people.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        match (&self.head, &self.error) {
            (Some(head), None) => {
                let _ = writeln!(
                    s,
                    "ok: {}: {} entries, chain intact; head {head} (write it down to anchor the log)",
                    self.file.display(),
                    self.entries
                );
            }
            (_, error) => {
                let _ = writeln!(
                    s,
                    "FAILED: {}: {}",
                    self.file.display(),
                    error.as_deref().unwrap_or("does not verify")
                );
            }
        }
        s
    }
}

//! Cross-checking logs: every log head a signer wrote into a PSBT it signed,
//! and the coordinator recorded, must still be in that signer's log.
//!
//! A hash chain shows that no line was changed, but not that none was cut off
//! the end: a signer log emptied or shortened (to sign past a daily limit
//! again) still verifies. The heads the coordinator recorded are the outside
//! anchor that catches it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use bitcoin::bip32::Fingerprint;
use bitcoin::Txid;
use serde::Serialize;

use super::event::{Event, SignerHead};
use super::log::{LogError, VerifiedLog};
use crate::error::{Classify, ExitCode};

/// One verified log and whose it is.
#[derive(Debug, Clone)]
pub struct NamedLog {
    /// The file.
    pub path: PathBuf,
    /// Its entries.
    pub log: VerifiedLog,
}

impl NamedLog {
    /// Reads and verifies the log at `path`, which must exist (a log given
    /// to check that is missing is a mistake, not an empty log).
    pub fn read(path: &std::path::Path) -> Result<NamedLog, LogError> {
        if !path.exists() {
            return Err(LogError::Missing(path.to_owned()));
        }
        Ok(NamedLog {
            path: path.to_owned(),
            log: super::log::EventLog::new(path).verify()?,
        })
    }

    /// The master fingerprint of the signer whose log this is, from the entry
    /// its seed creation wrote; `None` for the coordinator's log or a signer
    /// without a seed.
    pub fn signer(&self) -> Result<Option<Fingerprint>, LogError> {
        self.log.signer()
    }

    /// The signer heads this log recorded (the coordinator's `signer-head`
    /// entries), with the txid each came with. An entry that does not read
    /// is an error, not skipped: a skipped head would be a head unchecked.
    pub fn reported_heads(&self) -> Result<Vec<(SignerHead, Txid)>, LogError> {
        let mut out = Vec::new();
        for e in &self.log.entries {
            if let Some(Event::SignerHead(s)) = e.event()? {
                out.push((s.head, s.txid));
            }
        }
        Ok(out)
    }
}

/// A head a signer reported that its log no longer holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingHead {
    /// The signer's log file.
    pub signer_log: PathBuf,
    /// The head as reported.
    pub head: SignerHead,
    /// The transaction it was reported with.
    pub txid: Txid,
    /// What the signer's log has at that sequence number instead.
    pub found: String,
}

/// What the cross-check found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HeadCheck {
    /// Heads checked against a signer log that was given.
    pub checked: usize,
    /// Heads of signers whose log was not given (not checked).
    pub unchecked: BTreeMap<String, usize>,
    /// Heads a given signer log no longer holds: each is a finding.
    pub missing: Vec<MissingHead>,
}

/// Signer logs cut short or rewritten: heads they reported are gone.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} signer log head(s) reported earlier are no longer in the signer's log: the log was cut short or rewritten after it signed. Keep the files as evidence and compare with the signer's backup", .0.len())]
pub struct MissingHeadsFinding(pub Vec<MissingHead>);

impl Classify for MissingHeadsFinding {
    fn exit_code(&self) -> ExitCode {
        ExitCode::Refused
    }
}

impl HeadCheck {
    /// Checks every head reported in any of `logs` against the log of the
    /// signer it names, where that log is among `logs`.
    pub fn of(logs: &[NamedLog]) -> Result<HeadCheck, LogError> {
        let mut signers: BTreeMap<Fingerprint, &NamedLog> = BTreeMap::new();
        for l in logs {
            if let Some(fp) = l.signer()? {
                signers.insert(fp, l);
            }
        }
        let mut reported = Vec::new();
        for l in logs {
            reported.extend(l.reported_heads()?);
        }
        let mut out = HeadCheck::default();
        for (head, txid) in reported {
            let Some(signer) = signers.get(&head.fingerprint) else {
                *out.unchecked
                    .entry(head.fingerprint.to_string())
                    .or_default() += 1;
                continue;
            };
            out.checked += 1;
            let at = usize::try_from(head.seq.saturating_sub(1))
                .ok()
                .and_then(|i| signer.log.entries.get(i));
            let found = match at {
                Some(e) if e.hash == head.hash.to_string() => continue,
                Some(e) => format!("entry {} has hash {}", e.seq, e.hash),
                None => format!("the log ends at entry {}", signer.log.entries.len()),
            };
            out.missing.push(MissingHead {
                signer_log: signer.path.clone(),
                head,
                txid,
                found,
            });
        }
        Ok(out)
    }

    /// The finding, if any head is missing.
    pub fn finding(&self) -> Option<MissingHeadsFinding> {
        (!self.missing.is_empty()).then(|| MissingHeadsFinding(self.missing.clone()))
    }

    /// Lines for people.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        if self.checked + self.unchecked.values().sum::<usize>() == 0 {
            return s;
        }
        let _ = writeln!(
            s,
            "signer heads: {} checked, {} missing",
            self.checked,
            self.missing.len()
        );
        for (fp, n) in &self.unchecked {
            let _ = writeln!(
                s,
                "  {n} head(s) of signer {fp} not checked: give that signer's log too"
            );
        }
        for m in &self.missing {
            let _ = writeln!(
                s,
                "  MISSING in {}: entry {} ({}) of signer {}, reported with transaction {}; {}",
                m.signer_log.display(),
                m.head.seq,
                m.head.hash,
                m.head.fingerprint,
                m.txid,
                m.found
            );
        }
        s
    }
}

//! A hash-chained JSON-lines log. Each line carries the hash of the line before
//! it and a hash of its own content, so editing, removing or reordering any line
//! is detected and reported with its line number.
//!
//! A chain only proves integrity relative to its newest hash: someone who can
//! rewrite the whole file can rebuild the chain. Write the head hash
//! ([`VerifiedLog::head`]) somewhere else (an auditor's report, a ticket) to
//! anchor it.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use bitcoin::hashes::{sha256, Hash};
use serde::{Deserialize, Serialize};

use crate::error::{Classify, ExitCode};

use super::event::Event;
use super::time::{now_unix, utc_timestamp};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntry {
    /// 1 for the first line, then one more per line.
    pub seq: u64,
    /// Unix time of the entry.
    pub unix_time: u64,
    /// The same time, for people.
    pub time: String,
    /// `hash` of the previous line (64 zeros for the first).
    pub prev: String,
    /// What happened; always an object with a `kind` field.
    pub event: serde_json::Value,
    /// SHA-256 over the fields above.
    pub hash: String,
}

#[derive(Serialize)]
struct Unsealed<'a> {
    seq: u64,
    unix_time: u64,
    time: &'a str,
    prev: &'a str,
    event: &'a serde_json::Value,
}

impl LogEntry {
    fn compute_hash(&self) -> String {
        let unsealed = Unsealed {
            seq: self.seq,
            unix_time: self.unix_time,
            time: &self.time,
            prev: &self.prev,
            event: &self.event,
        };
        let mut bytes = b"custodia/log/v1\n".to_vec();
        bytes.extend(serde_json::to_vec(&unsealed).expect("log entries serialize"));
        sha256::Hash::hash(&bytes).to_string()
    }

    /// The `kind` field of the event.
    pub fn kind(&self) -> &str {
        self.event
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or("")
    }

    /// The event, typed; `None` for a kind this program does not know (see
    /// the module `event` for how readers treat those). An entry of a known
    /// kind that does not read is an error naming it: counting a daily limit
    /// past an entry it cannot read would undercount.
    pub fn event(&self) -> Result<Option<Event>, LogError> {
        if !Event::KINDS.contains(&self.kind()) {
            return Ok(None);
        }
        serde_json::from_value(self.event.clone())
            .map(Some)
            .map_err(|e| LogError::Unreadable {
                seq: self.seq,
                kind: self.kind().to_owned(),
                reason: e.to_string(),
            })
    }
}

/// Why a log could not be read, written or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// I/O failure.
    #[error("cannot access log {path}: {source}")]
    Io {
        /// The log file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A log given to check does not exist.
    #[error("{0} does not exist; give the path of a custodia log")]
    Missing(PathBuf),
    /// The chain is broken at a line.
    #[error("log {path} line {line}: {reason}; the log was changed after it was written — keep the file as evidence and compare with a backup")]
    Tampered {
        /// The log file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What does not match.
        reason: String,
    },
    /// An event to append is not a JSON object with a `kind`.
    #[error("log events must be JSON objects with a `kind` field")]
    BadEvent,
    /// A sealed entry no longer follows the log (it cannot, while the
    /// lock is held: a program error).
    #[error("a log entry was sealed for another position in the log; nothing was written")]
    StaleEntry,
    /// An entry of a known kind lacks a field or holds a wrong one.
    #[error("log entry {seq} (`{kind}`) cannot be read: {reason}; the log verifies, so a program wrote it so — report it with the log attached")]
    Unreadable {
        /// Its sequence number.
        seq: u64,
        /// Its kind.
        kind: String,
        /// What serde found.
        reason: String,
    },
    /// The clock reads earlier than the newest entry.
    #[error("this machine's clock ({now}) is earlier than the newest entry of log {path} ({newest}); set the clock to the right time and try again. Nothing was written. (Entries must not go back in time: a clock that can be set back and forth could reopen the daily limits)")]
    ClockBehind {
        /// The log file.
        path: PathBuf,
        /// The clock now, for people.
        now: String,
        /// The newest entry's time.
        newest: String,
    },
}

impl Classify for LogError {
    fn exit_code(&self) -> ExitCode {
        match self {
            LogError::Io { .. } | LogError::StaleEntry => ExitCode::NodeOrIo,
            LogError::Tampered { .. } => ExitCode::Refused,
            LogError::BadEvent
            | LogError::Missing(_)
            | LogError::ClockBehind { .. }
            | LogError::Unreadable { .. } => ExitCode::BadInput,
        }
    }
}

/// A log whose every line checked out.
#[derive(Debug, Clone)]
pub struct VerifiedLog {
    /// The entries, in order.
    pub entries: Vec<LogEntry>,
}

impl VerifiedLog {
    /// The master fingerprint of the signer whose log this is, from the entry
    /// its seed creation wrote; `None` for the coordinator's log or a signer
    /// without a seed.
    pub fn signer(&self) -> Result<Option<bitcoin::bip32::Fingerprint>, LogError> {
        for e in &self.entries {
            if let Some(Event::Init(s) | Event::Restore(s) | Event::RestoreBackup(s)) = e.event()? {
                return Ok(Some(s.fingerprint));
            }
        }
        Ok(None)
    }

    /// The `kind` of every entry, in order.
    pub fn kinds(&self) -> Vec<&str> {
        self.entries.iter().map(LogEntry::kind).collect()
    }

    /// Hash of the newest line (64 zeros for an empty log).
    pub fn head(&self) -> &str {
        self.entries
            .last()
            .map(|e| e.hash.as_str())
            .unwrap_or(GENESIS)
    }
}

/// An append-only hash-chained log file.
#[derive(Debug, Clone)]
pub struct EventLog {
    path: PathBuf,
}

impl EventLog {
    /// The log at `path` (created on first append).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        EventLog { path: path.into() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> LogError {
        LogError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Reads and checks every line. A missing file is an empty log.
    pub fn verify(&self) -> Result<VerifiedLog, LogError> {
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(VerifiedLog { entries: vec![] })
            }
            Err(e) => return Err(self.io(e)),
        };
        self.verify_from(BufReader::new(file))
    }

    /// Checks every line of `contents` as this log's: what [`verify`]
    /// does once the file is open, for a log that arrives another way (a
    /// copy in memory, a pipe). Errors name this log's path.
    ///
    /// [`verify`]: Self::verify
    pub fn verify_from(&self, contents: impl BufRead) -> Result<VerifiedLog, LogError> {
        let mut entries: Vec<LogEntry> = Vec::new();
        for (i, line) in contents.lines().enumerate() {
            let line_no = i as u64 + 1;
            let tampered = |reason: String| LogError::Tampered {
                path: self.path.clone(),
                line: line_no,
                reason,
            };
            let line = line.map_err(|e| self.io(e))?;
            let entry: LogEntry = serde_json::from_str(&line)
                .map_err(|e| tampered(format!("not a log entry ({e})")))?;
            let prev = entries.last().map(|e| e.hash.as_str()).unwrap_or(GENESIS);
            if entry.seq != line_no {
                return Err(tampered(format!(
                    "sequence number {} where {line_no} was expected",
                    entry.seq
                )));
            }
            if entry.prev != prev {
                return Err(tampered("does not follow the line before it".into()));
            }
            if entry.compute_hash() != entry.hash {
                return Err(tampered("content does not match its hash".into()));
            }
            entries.push(entry);
        }
        Ok(VerifiedLog { entries })
    }

    /// Appends one event after verifying the chain, and syncs it to disk before
    /// returning: callers rely on the entry being durable (a signer writes its
    /// log entry before the signed file appears).
    pub fn append(&self, event: &Event) -> Result<LogEntry, LogError> {
        self.lock()?.append(event)
    }

    /// Takes the log for this process alone (an exclusive lock, held until the
    /// returned value is dropped) and verifies it. A decision that depends on
    /// the log — a daily limit — is made on what [`LockedLog::verified`] shows
    /// and appended before anyone else can append: two signing sessions at once
    /// cannot both count the same earlier total.
    pub fn lock(&self) -> Result<LockedLog<'_>, LogError> {
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&self.path).map_err(|e| self.io(e))?;
        file.lock().map_err(|e| self.io(e))?;
        let verified = self.verify()?;
        Ok(LockedLog {
            log: self,
            file,
            verified,
        })
    }
}

/// A log held exclusively by this process, verified when taken.
#[derive(Debug)]
pub struct LockedLog<'a> {
    log: &'a EventLog,
    file: std::fs::File,
    verified: VerifiedLog,
}

impl LockedLog<'_> {
    /// The entries as they are while the lock is held.
    pub fn verified(&self) -> &VerifiedLog {
        &self.verified
    }

    /// Appends one event and syncs it to disk. Refused when the clock reads
    /// earlier than the newest entry.
    pub fn append(&mut self, event: &Event) -> Result<LogEntry, LogError> {
        self.append_value(serde_json::to_value(event).expect("events serialize"))
    }

    /// The entry `event` would be, sealed with its hash, not yet written:
    /// a signer writes its signer log head into the PSBT, prepares the file,
    /// and only then writes the entry with [`write`](Self::write), so that a
    /// file that cannot be written leaves no entry behind. Refused when the
    /// clock reads earlier than the newest entry.
    pub fn seal(&self, event: &Event) -> Result<LogEntry, LogError> {
        self.seal_value(serde_json::to_value(event).expect("events serialize"))
    }

    /// Writes an entry [`seal`](Self::seal) made, and syncs it to disk.
    /// Refused if another entry was written since it was sealed.
    pub fn write(&mut self, entry: LogEntry) -> Result<LogEntry, LogError> {
        let next = self.verified.entries.len() as u64 + 1;
        if entry.seq != next || entry.prev != self.verified.head() {
            return Err(LogError::StaleEntry);
        }
        let mut line = serde_json::to_vec(&entry).expect("log entries serialize");
        line.push(b'\n');
        let before = self.file.metadata().map_err(|e| self.log.io(e))?.len();
        crate::crash_point::reached("append log entry");
        if let Err(e) = self.file.write_all(&line) {
            // A full disk can take part of the line: cut it off again, or
            // the log would end in a line no verifier accepts and every
            // later command would refuse it.
            let _ = self.file.set_len(before);
            let _ = self.file.sync_all();
            return Err(self.log.io(e));
        }
        crate::crash_point::reached("sync log");
        self.file.sync_all().map_err(|e| self.log.io(e))?;
        if before == 0 {
            // The log file is new: make its name durable too.
            crate::transport::sync_parent(&self.log.path).map_err(|e| self.log.io(e))?;
        }
        self.verified.entries.push(entry.clone());
        Ok(entry)
    }

    /// Appends an event as JSON; the typed [`append`](Self::append) is the
    /// only way in from outside, this one lets the tests write any kind.
    fn append_value(&mut self, event: serde_json::Value) -> Result<LogEntry, LogError> {
        let entry = self.seal_value(event)?;
        self.write(entry)
    }

    fn seal_value(&self, event: serde_json::Value) -> Result<LogEntry, LogError> {
        if event.get("kind").and_then(|k| k.as_str()).is_none() {
            return Err(LogError::BadEvent);
        }
        let unix_time = now_unix();
        if let Some(newest) = self.verified.entries.last() {
            if unix_time < newest.unix_time {
                return Err(LogError::ClockBehind {
                    path: self.log.path.clone(),
                    now: utc_timestamp(unix_time),
                    newest: newest.time.clone(),
                });
            }
        }
        let mut entry = LogEntry {
            seq: self.verified.entries.len() as u64 + 1,
            unix_time,
            time: utc_timestamp(unix_time),
            prev: self.verified.head().to_owned(),
            event,
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        Ok(entry)
    }
}

#[cfg(test)]
mod tests;

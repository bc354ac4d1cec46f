//! Which policies the signer's own log says are registered. A file in
//! `policies/` is only a copy: anyone who can write the data directory can put
//! one there, so it counts only if the hash-chained log holds the `register`
//! entry that wrote it, and no later `register` entry replaced it.

use std::collections::BTreeMap;

use crate::audit::LogEntry;
use crate::policy::PolicyId;

/// The `kind` of the log entry a registration writes.
pub(super) const REGISTER_EVENT: &str = "register";

/// What the log says of one policy id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Logged {
    /// Registered (by the log entry with this sequence number) and current.
    Current(u64),
    /// Registered once, then replaced by `by` (log entry `seq`).
    Retired {
        /// The policy that replaced it.
        by: String,
        /// The log entry that replaced it.
        seq: u64,
    },
    /// The log has no registration of it.
    Never,
}

/// The registrations in a verified log, in log order.
#[derive(Debug, Default)]
pub(super) struct LoggedRegistrations {
    status: BTreeMap<String, Logged>,
}

impl LoggedRegistrations {
    /// Replays the `register` entries of a verified log.
    pub(super) fn from_entries(entries: &[LogEntry]) -> Self {
        let mut status = BTreeMap::new();
        for e in entries.iter().filter(|e| e.kind() == REGISTER_EVENT) {
            let Some(id) = e.event.get("policy_id").and_then(|v| v.as_str()) else {
                continue;
            };
            if let Some(old) = e.event.get("replaced").and_then(|v| v.as_str()) {
                status.insert(
                    old.to_owned(),
                    Logged::Retired {
                        by: id.to_owned(),
                        seq: e.seq,
                    },
                );
            }
            status.insert(id.to_owned(), Logged::Current(e.seq));
        }
        LoggedRegistrations { status }
    }

    /// What the log says of `id`.
    pub(super) fn of(&self, id: &PolicyId) -> Logged {
        self.status
            .get(&id.to_string())
            .cloned()
            .unwrap_or(Logged::Never)
    }
}

//! Which policies the signer's own log says are registered. A file in
//! `policies/` is only a copy: anyone who can write the data directory can put
//! one there, so it counts only if the hash-chained log holds the `register`
//! entry that wrote it, and no later `register` entry replaced it.

use std::collections::BTreeMap;

use crate::audit::{Event, LogEntry, LogError};
use crate::policy::PolicyId;

/// What the log says of one policy id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Logged {
    /// Registered (by the log entry with this sequence number) and current.
    Current(u64),
    /// Registered once, then replaced by `by` (log entry `seq`).
    Retired {
        /// The policy that replaced it.
        by: PolicyId,
        /// The log entry that replaced it.
        seq: u64,
    },
    /// The log has no registration of it.
    Never,
}

/// The registrations in a verified log, in log order.
#[derive(Debug, Default)]
pub(super) struct LoggedRegistrations {
    status: BTreeMap<PolicyId, Logged>,
}

impl LoggedRegistrations {
    /// Replays the `register` entries of a verified log.
    pub(super) fn from_entries(entries: &[LogEntry]) -> Result<Self, LogError> {
        let mut status = BTreeMap::new();
        for e in entries {
            let Some(Event::Register(r)) = e.event()? else {
                continue;
            };
            let id = r.policy_id;
            if let Some(old) = r.replaced {
                status.insert(old, Logged::Retired { by: id, seq: e.seq });
            }
            status.insert(id, Logged::Current(e.seq));
        }
        Ok(LoggedRegistrations { status })
    }

    /// What the log says of `id`.
    pub(super) fn of(&self, id: &PolicyId) -> Logged {
        self.status.get(id).cloned().unwrap_or(Logged::Never)
    }
}

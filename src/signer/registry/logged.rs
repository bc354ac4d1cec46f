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
    /// Each policy's successor, registered beside it for a migration.
    successors: BTreeMap<PolicyId, PolicyId>,
}

impl LoggedRegistrations {
    /// Replays the `register` entries of a verified log.
    pub(super) fn from_entries(entries: &[LogEntry]) -> Result<Self, LogError> {
        let mut status = BTreeMap::new();
        let mut successors = BTreeMap::new();
        for e in entries {
            match e.event()? {
                Some(Event::Register(r)) => {
                    let id = r.policy_id;
                    if let Some(old) = r.replaced {
                        status.insert(old, Logged::Retired { by: id, seq: e.seq });
                    }
                    if let Some(old) = r.successor_of {
                        successors.insert(old, id);
                    }
                    status.insert(id, Logged::Current(e.seq));
                }
                Some(Event::RetirePolicy(r)) => {
                    status.insert(
                        r.policy_id,
                        Logged::Retired {
                            by: r.successor,
                            seq: e.seq,
                        },
                    );
                }
                _ => {}
            }
        }
        Ok(LoggedRegistrations { status, successors })
    }

    /// The successor registered beside `id`, if any.
    pub(super) fn successor_of(&self, id: &PolicyId) -> Option<PolicyId> {
        self.successors.get(id).copied()
    }

    /// What the log says of `id`.
    pub(super) fn of(&self, id: &PolicyId) -> Logged {
        self.status.get(id).cloned().unwrap_or(Logged::Never)
    }
}

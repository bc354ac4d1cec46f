//! The gate of a governed policy change, as the coordinator checks it
//! before adopting a successor or migrating funds to it: the update
//! approved as the policy in force requires, announced in the log, and the
//! chain past the announcement's waiting blocks.

use std::path::Path;

use crate::audit::{Event, LogEntry, PolicyAnnounced};
use crate::policy::update::{ApprovedUpdate, PolicyUpdate};
use crate::policy::{PolicyId, VaultPolicy};

use super::error::CoordinatorError;

/// Reads a policy update file for the coordinator.
pub(crate) fn read_update(path: &Path) -> Result<PolicyUpdate, CoordinatorError> {
    Ok(PolicyUpdate::read(path)?)
}

/// The first announcement of `old` → `new` in the log, if any.
pub(crate) fn announcement(
    entries: &[LogEntry],
    old: PolicyId,
    new: PolicyId,
) -> Result<Option<PolicyAnnounced>, CoordinatorError> {
    for e in entries {
        if let Some(Event::PolicyAnnounce(a)) = e.event()? {
            if a.old_policy_id == old && a.new_policy_id == new {
                return Ok(Some(a));
            }
        }
    }
    Ok(None)
}

/// Whether the coordinator may switch from `old` to `new` at chain height
/// `tip`: when `old` governs its changes (or an update is given), the
/// update must be approved as `old` requires, announced in the log, and
/// `tip` at or past the announcement's `usable_at`.
pub(crate) fn check_change(
    entries: &[LogEntry],
    old: &VaultPolicy,
    new: &VaultPolicy,
    update: Option<&PolicyUpdate>,
    tip: impl FnOnce() -> Result<u32, CoordinatorError>,
) -> Result<Option<ApprovedUpdate>, CoordinatorError> {
    let update = match (update, old.rules().policy_change()) {
        (Some(u), _) => u,
        (None, None) => return Ok(None),
        (None, Some(_)) => {
            return Err(CoordinatorError::UpdateNeeded {
                old: old.id(),
                new: new.id(),
            })
        }
    };
    let approved = update.approved(old, new)?;
    let Some(announced) = announcement(entries, old.id(), new.id())? else {
        return Err(CoordinatorError::NotAnnounced {
            old: old.id(),
            new: new.id(),
        });
    };
    let tip = tip()?;
    if tip < announced.usable_at {
        return Err(CoordinatorError::ChangeWaiting {
            new: new.id(),
            tip,
            usable_at: announced.usable_at,
        });
    }
    Ok(Some(approved))
}

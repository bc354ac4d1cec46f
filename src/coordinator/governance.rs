//! Governed policy change on the coordinator: an approved update is first
//! announced (logged with the chain height), and the successor policy is
//! adopted (`init --replace-policy --update`) only once the policy in
//! force's waiting blocks have passed since. The auditor can check both on
//! chain and in the log.

use std::path::Path;

use serde::Serialize;

use crate::audit::{Event, PolicyAnnounced};
use crate::policy::{PolicyId, VaultPolicy};

use super::chain::ChainSource;
use super::change::{announcement, read_update};
use super::error::CoordinatorError;
use super::node_chain::NodeOnDemand;
use super::vault::Coordinator;

/// What `announce-policy` logged.
#[derive(Debug, Clone, Serialize)]
pub struct Announcement {
    /// The policy in force.
    pub old_policy_id: PolicyId,
    /// Its successor.
    pub new_policy_id: PolicyId,
    /// The tip when announced.
    pub height: u32,
    /// The first height at which `init --replace-policy` adopts it.
    pub usable_at: u32,
    /// The approvers whose approvals verified.
    pub approvers: Vec<String>,
}

impl Announcement {
    /// Lines for people.
    pub fn to_text(&self) -> String {
        format!(
            "announced the change of policy {} into {} at height {}, approved by {}\nadopt it from height {} on: custodia-coordinator init NEW_POLICY --replace-policy --update UPDATE\n",
            self.old_policy_id.short(),
            self.new_policy_id.short(),
            self.height,
            match self.approvers.is_empty() {
                true => "nobody (the policy in force does not govern its changes)".to_owned(),
                false => self.approvers.join(", "),
            },
            self.usable_at
        )
    }
}

impl Coordinator {
    /// `announce-policy`: logs the approved change of the policy in force
    /// into `new`, with the chain height; `init --replace-policy` adopts it
    /// once the policy's waiting blocks have passed.
    pub fn announce_policy(
        &self,
        new: &Path,
        update: &Path,
    ) -> Result<Announcement, CoordinatorError> {
        self.announce_policy_on(&NodeOnDemand::new(self), new, update)
    }

    /// [`Coordinator::announce_policy`] on `chain`.
    pub(crate) fn announce_policy_on(
        &self,
        chain: &dyn ChainSource,
        new: &Path,
        update: &Path,
    ) -> Result<Announcement, CoordinatorError> {
        let new = VaultPolicy::load(new).map_err(|e| CoordinatorError::BadFile {
            path: new.to_owned(),
            reason: e.to_string(),
        })?;
        let update = read_update(update)?;
        let old = self.policy();
        let approved = update.approved(old, &new)?;
        if let Some(a) = announcement(&self.log_entries()?, old.id(), new.id())? {
            return Err(CoordinatorError::AlreadyAnnounced {
                new: new.id(),
                height: a.height,
                usable_at: a.usable_at,
            });
        }
        let height = u32::try_from(chain.health()?.blocks).unwrap_or(u32::MAX);
        let usable_at = height.saturating_add(approved.wait_blocks());
        self.log(&Event::PolicyAnnounce(PolicyAnnounced {
            vault: old.name().to_owned(),
            old_policy_id: old.id(),
            new_policy_id: new.id(),
            height,
            usable_at,
            approvals: update.approvals().collect(),
        }))?;
        Ok(Announcement {
            old_policy_id: old.id(),
            new_policy_id: new.id(),
            height,
            usable_at,
            approvers: approved
                .approvers()
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests;

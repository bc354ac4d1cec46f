//! Every change of policy the coordinator's log records, checked against
//! the policy it replaced: a policy with `[rules.policy_change]` may only
//! be replaced by a successor its approvers approved (the approvals are
//! verified again here, from the announcement the coordinator logged), after
//! an announcement, and at a chain height its waiting blocks after it
//! (counted from the old policy, not from what the log claims).

use std::fmt::Write as _;

use serde::Serialize;

use super::event::{Event, PolicyAction, PolicyAnnounced};
use super::log::{LogError, VerifiedLog};
use crate::error::{Classify, ExitCode};
use crate::policy::update::PolicyUpdate;
use crate::policy::{PolicyId, VaultPolicy};

/// One change of policy, as the log records it and as the auditor judges it.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyChange {
    /// The log line (sequence number) of the adoption.
    pub seq: u64,
    /// The policy replaced.
    pub old_policy_id: PolicyId,
    /// The successor.
    pub new_policy_id: PolicyId,
    /// Whether the replaced policy governs its changes.
    pub governed: Option<bool>,
    /// The approvers whose approvals verified.
    pub approvers: Vec<String>,
    /// The announcement's height, if announced.
    pub announced_at: Option<u32>,
    /// The height the coordinator checked the change at.
    pub adopted_at: Option<u32>,
    /// What is wrong with it.
    pub findings: Vec<String>,
}

/// Every change of policy in a coordinator's log.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyChanges {
    /// In log order.
    pub changes: Vec<PolicyChange>,
}

/// Policy changes that skipped what the policy in force required (exit 1).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0} policy change(s) skipped the approvals or the wait the replaced policy requires; each is listed above")]
pub struct UngovernedChangeFinding(pub usize);

impl Classify for UngovernedChangeFinding {
    fn exit_code(&self) -> ExitCode {
        ExitCode::Refused
    }
}

impl PolicyChanges {
    /// The changes in the coordinator's `log`, judged with `policies` (every
    /// policy the vault had: a change whose old policy is not among them
    /// cannot be checked, and says so).
    pub fn of(policies: &[VaultPolicy], log: &VerifiedLog) -> Result<PolicyChanges, LogError> {
        let mut announced: Vec<PolicyAnnounced> = Vec::new();
        let mut changes = Vec::new();
        for entry in &log.entries {
            match entry.event()? {
                Some(Event::PolicyAnnounce(a)) => announced.push(a),
                Some(Event::Policy(p)) if p.action == PolicyAction::Replaced => {
                    let Some(old) = p.old_policy_id else { continue };
                    let announcement = announced
                        .iter()
                        .find(|a| a.old_policy_id == old && a.new_policy_id == p.policy_id);
                    changes.push(judge(
                        policies,
                        entry.seq,
                        old,
                        p.policy_id,
                        announcement,
                        p.height,
                    ));
                }
                _ => {}
            }
        }
        Ok(PolicyChanges { changes })
    }

    /// The finding to exit with, if a change skipped its governance.
    pub fn finding(&self) -> Option<UngovernedChangeFinding> {
        let bad = self
            .changes
            .iter()
            .filter(|c| !c.findings.is_empty())
            .count();
        (bad > 0).then_some(UngovernedChangeFinding(bad))
    }

    /// Lines for people.
    pub fn to_text(&self) -> String {
        let mut s = format!("policy changes: {}\n", self.changes.len());
        for c in &self.changes {
            let by = match (c.governed, c.approvers.is_empty()) {
                (Some(false), _) => "not governed by the replaced policy".to_owned(),
                (_, true) => "no valid approval".to_owned(),
                (_, false) => format!("approved by {}", c.approvers.join(", ")),
            };
            let _ = writeln!(
                s,
                "  line {}: {} → {}, {by}{}{}",
                c.seq,
                c.old_policy_id.short(),
                c.new_policy_id.short(),
                c.announced_at
                    .map_or(String::new(), |h| format!(", announced at height {h}")),
                c.adopted_at
                    .map_or(String::new(), |h| format!(", adopted at height {h}")),
            );
            for f in &c.findings {
                let _ = writeln!(s, "    FINDING: {f}");
            }
        }
        s
    }
}

fn judge(
    policies: &[VaultPolicy],
    seq: u64,
    old_id: PolicyId,
    new_id: PolicyId,
    announcement: Option<&PolicyAnnounced>,
    adopted_at: Option<u32>,
) -> PolicyChange {
    let mut change = PolicyChange {
        seq,
        old_policy_id: old_id,
        new_policy_id: new_id,
        governed: None,
        approvers: Vec::new(),
        announced_at: announcement.map(|a| a.height),
        adopted_at,
        findings: Vec::new(),
    };
    let find = |id: PolicyId| policies.iter().find(|p| p.id() == id);
    let (Some(old), Some(new)) = (find(old_id), find(new_id)) else {
        change.findings.push(format!(
            "cannot be checked: give both policies ({} and {}) with --policy",
            old_id.short(),
            new_id.short()
        ));
        return change;
    };
    let Some(rule) = old.rules().policy_change() else {
        change.governed = Some(false);
        return change;
    };
    change.governed = Some(true);
    let Some(announcement) = announcement else {
        change.findings.push(
            "adopted without an announcement, though the replaced policy governs its changes"
                .into(),
        );
        return change;
    };
    // The approvals are verified again from what the announcement carries.
    let checked = PolicyUpdate::new(old, new).and_then(|mut update| {
        for a in &announcement.approvals {
            update.add_approval(old, a.clone())?;
        }
        update.approved(old, new)
    });
    match checked {
        Ok(approved) => {
            change.approvers = approved
                .approvers()
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect();
        }
        Err(e) => change.findings.push(e.to_string()),
    }
    let usable_at = announcement.height.saturating_add(rule.wait_blocks());
    match adopted_at {
        Some(h) if h >= usable_at => {}
        Some(h) => change.findings.push(format!(
            "adopted at height {h}, before height {usable_at} ({} blocks after the announcement, as the replaced policy requires)",
            rule.wait_blocks()
        )),
        None => change
            .findings
            .push("the log does not say at which height it was adopted".into()),
    }
    change
}

#[cfg(test)]
mod tests;

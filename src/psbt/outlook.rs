//! What an approver sees before approving: not the key holder's verdict
//! (which refuses a transfer until the quorum is complete, the very thing
//! the approver is asked to help complete) but what this approval adds and
//! what is still needed after it.

use std::collections::BTreeSet;
use std::fmt::{self, Write as _};

use serde::Serialize;

use super::reviewed::{ApprovablePsbt, Refusal};
use crate::policy::rules::RuleId;
use crate::policy::ApproverId;

/// The approvals of a movement as they would stand after one more approver's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalOutlook {
    /// Who is about to approve.
    pub approver: ApproverId,
    /// Their department, from the policy (`None` for an approver the policy
    /// does not list: unlocking their key then fails).
    pub department: Option<String>,
    /// Whether the PSBT already carries a valid approval of theirs.
    pub already_approved: bool,
    /// Whether the movement needs approvals at all (only cold→hot does).
    pub needs_approvals: bool,
    /// Valid approvals after this one.
    pub approvals: usize,
    /// Approvals the policy requires.
    pub min_approvals: usize,
    /// Departments among the valid approvals after this one.
    pub departments: BTreeSet<String>,
    /// Departments the policy requires.
    pub min_departments: usize,
    /// Whether the quorum is met once this approval is added.
    quorum_met: bool,
}

impl ApprovalOutlook {
    /// What `approver`'s approval would add to `approvable`.
    pub fn of(approvable: &ApprovablePsbt, approver: &ApproverId) -> Self {
        let policy = approvable.policy();
        let department = policy.approver(approver).map(|a| a.department().to_owned());
        let status = approvable.review().approvals();
        let mut approvers: BTreeSet<ApproverId> = status
            .map(|s| s.valid_approvers.clone())
            .unwrap_or_default();
        let mut departments: BTreeSet<String> =
            status.map(|s| s.departments.clone()).unwrap_or_default();
        let already_approved = !approvers.insert(approver.clone());
        if let Some(d) = &department {
            departments.insert(d.clone());
        }
        let needs_approvals = approvable.movement().needs_approvals();
        let rule = policy.rules().cold_to_hot();
        ApprovalOutlook {
            approver: approver.clone(),
            department,
            already_approved,
            needs_approvals,
            approvals: approvers.len(),
            min_approvals: rule.min_approvals(),
            departments: departments.clone(),
            min_departments: rule.min_departments(),
            quorum_met: rule.quorum_met(approvers.len(), departments.len()),
        }
    }

    /// Whether the quorum is met once this approval is added.
    pub fn quorum_met(&self) -> bool {
        self.quorum_met
    }

    /// The summary an approver reads: the review, with the approval quorum
    /// shown as OPEN, and what this approval adds.
    pub fn to_text(&self, approvable: &ApprovablePsbt) -> String {
        let mut s = approvable
            .review()
            .text_without_verdict(Some(RuleId::Approvals));
        let _ = writeln!(s, "Verdict: APPROVABLE; {self}");
        s
    }
}

impl fmt::Display for ApprovalOutlook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = match &self.department {
            Some(d) => format!("{} ({d})", self.approver),
            None => format!("{} (not an approver of this policy)", self.approver),
        };
        if !self.needs_approvals {
            return write!(
                f,
                "this movement needs no approvals; {who}'s approval is recorded but changes nothing"
            );
        }
        if self.already_approved {
            write!(f, "{who} has already approved this movement; ")?;
        } else {
            write!(f, "with this approval by {who}: ")?;
        }
        let departments: Vec<&str> = self.departments.iter().map(String::as_str).collect();
        write!(
            f,
            "{} of {} approvals, from {} of {} departments ({})",
            self.approvals,
            self.min_approvals,
            self.departments.len(),
            self.min_departments,
            departments.join(", ")
        )?;
        if self.quorum_met() {
            return write!(f, "; the quorum is met, the key holders can sign");
        }
        let more_departments = self.min_departments.saturating_sub(self.departments.len());
        let more = self
            .min_approvals
            .saturating_sub(self.approvals)
            .max(more_departments);
        write!(f, "; still needed: {more} more approval(s)")?;
        if more_departments > 0 {
            write!(
                f,
                ", from {more_departments} department(s) other than {}",
                departments.join(", ")
            )?;
        }
        Ok(())
    }
}

impl Refusal {
    /// The summary for the one refused: a key holder sees the review's own
    /// verdict; an approver sees the approval quorum as OPEN and only the
    /// failures no approval can fix.
    pub fn to_text(&self) -> String {
        if !self.is_for_approver() {
            return self.review().to_text();
        }
        let mut s = self.review().text_without_verdict(Some(RuleId::Approvals));
        let _ = writeln!(
            s,
            "Verdict: REFUSED ({} rule(s) fail that no approval can fix)",
            self.rules().len()
        );
        s
    }
}

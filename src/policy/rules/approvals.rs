//! Approvals of cold→hot movements: how many approvers, from how many
//! departments. The quorum is checked here and only here, for the signer,
//! the approver, the coordinator's collection and the auditor.

use std::collections::BTreeSet;

use bitcoin::Amount;

use super::movement::Movement;
use super::verdict::{judge, RuleCheck, RuleId};

/// Approvals and limits for cold→hot movements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColdToHotRule {
    pub(crate) min_approvals: usize,
    pub(crate) min_departments: usize,
    pub(crate) max_amount: Amount,
    pub(crate) daily_limit: Amount,
}

impl ColdToHotRule {
    /// Distinct approvers needed.
    pub fn min_approvals(&self) -> usize {
        self.min_approvals
    }
    /// Distinct departments needed among the approvers.
    pub fn min_departments(&self) -> usize {
        self.min_departments
    }
    /// Largest single movement.
    pub fn max_amount(&self) -> Amount {
        self.max_amount
    }
    /// Largest total in any 24 hours.
    pub fn daily_limit(&self) -> Amount {
        self.daily_limit
    }
}

impl ColdToHotRule {
    /// Whether `approvers` distinct approvers from `departments` distinct
    /// departments meet the quorum.
    pub fn quorum_met(&self, approvers: usize, departments: usize) -> bool {
        approvers >= self.min_approvals && departments >= self.min_departments
    }
}

/// The `approvals` rule: a movement that needs approvals (only cold→hot
/// does) carries the quorum, counting only valid approvals.
pub fn check_approvals(
    rule: &ColdToHotRule,
    movement: Option<Movement>,
    approvers: usize,
    departments: &BTreeSet<String>,
) -> RuleCheck {
    let id = RuleId::Approvals;
    match movement {
        None => judge(id, false, "cannot be judged without a movement kind"),
        Some(m) if !m.needs_approvals() => {
            judge(id, true, format!("a {} needs no approvals", m.describe()))
        }
        Some(_) => {
            let named = match departments.is_empty() {
                true => String::new(),
                false => format!(
                    " ({})",
                    departments.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            };
            judge(
                id,
                rule.quorum_met(approvers, departments.len()),
                format!(
                    "{approvers} valid approval(s) from {} department(s){named}; needs {} from {}",
                    departments.len(),
                    rule.min_approvals,
                    rule.min_departments
                ),
            )
        }
    }
}

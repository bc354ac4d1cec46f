//! Governed policy change: how many approvers, from how many departments,
//! must approve a successor policy, and how many blocks the coordinator
//! waits after announcing it before it uses it. Checked here for the
//! signer's `register --replace`, the coordinator's adoption and the
//! auditor's list of changes.

/// `[rules.policy_change]`: the approvals a change of this policy needs and
/// the blocks to wait once it is announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyChangeRule {
    pub(crate) min_approvals: usize,
    pub(crate) min_departments: usize,
    pub(crate) wait_blocks: u32,
}

impl PolicyChangeRule {
    /// The longest wait accepted, in blocks: about a year.
    pub const MAX_WAIT_BLOCKS: u32 = 52_560;

    /// Distinct approvers needed.
    pub fn min_approvals(&self) -> usize {
        self.min_approvals
    }

    /// Distinct departments needed among them.
    pub fn min_departments(&self) -> usize {
        self.min_departments
    }

    /// Blocks between the announcement and the first use of the successor.
    pub fn wait_blocks(&self) -> u32 {
        self.wait_blocks
    }

    /// Whether `approvers` distinct approvers from `departments` distinct
    /// departments meet the quorum.
    pub fn quorum_met(&self, approvers: usize, departments: usize) -> bool {
        approvers >= self.min_approvals && departments >= self.min_departments
    }
}

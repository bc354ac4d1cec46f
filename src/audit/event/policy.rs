//! The events of a policy's life: a signer registers it, an approver
//! approves a change of it, the coordinator announces and adopts it.

use serde::{Deserialize, Serialize};

use crate::policy::{ApproverId, KeyId, PolicyId};

/// `register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    /// The policy registered.
    pub policy_id: PolicyId,
    /// Its vault.
    pub vault: String,
    /// Its network.
    pub network: String,
    /// The vault's policy it replaced, if any.
    pub replaced: Option<PolicyId>,
    /// The policy's keys this laptop holds.
    #[serde(default)]
    pub keys_held: Vec<KeyId>,
    /// The policy's approvers whose keys this laptop holds.
    #[serde(default)]
    pub approvers_held: Vec<ApproverId>,
    /// The approvers of the replaced policy who approved this change, when
    /// it governs its changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub update_approvers: Vec<ApproverId>,
    /// The policy this one was registered beside as its successor (for a
    /// migration), which stays registered until retired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor_of: Option<PolicyId>,
    /// Registered with `--i-understand-devices-enforce-nothing`: devices
    /// alone make a quorum of the policy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub devices_enforce_nothing: bool,
}

/// `policy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyAdopted {
    /// The coordinator's policy.
    pub policy_id: PolicyId,
    /// Whether the policy is the coordinator's first or replaced another.
    pub action: PolicyAction,
    /// The vault.
    pub vault: String,
    /// Its network.
    pub network: String,
    /// The policy replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_policy_id: Option<PolicyId>,
    /// What changed, line by line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// The approvers of the replaced policy who approved the change, when
    /// it governs its changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub update_approvers: Vec<ApproverId>,
    /// The chain height a governed change was checked at (its waiting
    /// blocks counted to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Adopted with `--i-understand-devices-enforce-nothing`: devices alone
    /// make a quorum of the policy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub devices_enforce_nothing: bool,
}

/// What the coordinator's `init` did with its policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyAction {
    /// A new data dir for the policy.
    Created,
    /// The data dir already watched this very policy (never logged).
    Unchanged,
    /// The data dir watched another policy of the vault, now replaced.
    Replaced,
}

/// `approve-update`: an approver of the policy in force approved its
/// successor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateApproved {
    /// The vault.
    pub vault: String,
    /// The policy in force.
    pub old_policy_id: PolicyId,
    /// Its successor.
    pub new_policy_id: PolicyId,
    /// The approver.
    pub approver: ApproverId,
}

/// `policy-announce`: the coordinator will adopt `new_policy_id` once the
/// chain reaches `usable_at` (the announcement's tip plus the policy's
/// waiting blocks), with the approvals it verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyAnnounced {
    /// The vault.
    pub vault: String,
    /// The policy in force.
    pub old_policy_id: PolicyId,
    /// Its successor.
    pub new_policy_id: PolicyId,
    /// The chain height when announced.
    pub height: u32,
    /// The first height at which the successor may be adopted.
    pub usable_at: u32,
    /// The approvals, as the update file carries them (the auditor
    /// verifies them again against the old policy).
    pub approvals: Vec<crate::policy::update::UpdateApproval>,
}

/// `retire-policy`: a signer stopped signing for a policy whose funds moved
/// to its successor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRetired {
    /// The policy retired.
    pub policy_id: PolicyId,
    /// Its successor, registered here.
    pub successor: PolicyId,
}

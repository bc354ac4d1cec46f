//! A policy update: the change of a vault's policy in force (old id) to its
//! successor (new id), and the approvals it carries. Approvers of the **old**
//! policy approve it with BIP-340 signatures over a tagged hash bound to the
//! network, the vault, both ids and the approver, so an approval of one
//! change cannot be replayed for another, on another vault or network.
//!
//! The signer (`register --replace`), the coordinator (before it uses the
//! successor) and the auditor (listing every change) check an update here;
//! only [`PolicyUpdate::approved`] makes an [`ApprovedUpdate`].
//!
//! File format (JSON): `{"version": 1, "vault", "network", "old_policy_id",
//! "new_policy_id", "approvals": [{"approver", "signature"}]}`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::secp256k1::{schnorr, Message, Secp256k1};
use serde::{Deserialize, Serialize};

use super::{ApproverId, PolicyId, VaultPolicy};
use crate::error::{Classify, ExitCode};

/// The BIP-340 tag of policy update digests.
pub const UPDATE_TAG: &[u8] = b"custodia/policy-update/v1";

/// Why an update cannot be made, read, or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// The successor is another vault or network: a change keeps both.
    #[error("the new policy is for vault {new} on {new_network}, not {old} on {old_network}; a policy change keeps the vault's name and network")]
    OtherVault {
        /// The vault in force.
        old: String,
        /// Its network.
        old_network: String,
        /// The successor's vault.
        new: String,
        /// The successor's network.
        new_network: String,
    },
    /// The successor is the policy in force.
    #[error("the new policy is the policy in force ({0}); there is nothing to change")]
    Unchanged(PolicyId),
    /// The update is for other policies than the ones given.
    #[error("the update changes policy {} into {}, not {} into {}; use the update made for these two policies", .0.file_old, .0.file_new, .0.old, .0.new)]
    OtherPolicies(Box<OtherPolicies>),
    /// An approver who is not in the policy in force, or a signature that
    /// does not verify with that approver's key.
    #[error("the approval by {0} does not verify under the policy in force; ask that approver to approve again with `custodia-signer approve-update`")]
    BadApproval(ApproverId),
    /// Too few approvals for the old policy's `[rules.policy_change]`.
    #[error("the change carries {approvers} approval(s) from {departments} department(s); the policy in force needs {need_approvals} from {need_departments}; collect more with `custodia-signer approve-update`")]
    TooFewApprovals {
        /// Valid approvers present.
        approvers: usize,
        /// Their departments.
        departments: usize,
        /// Approvers needed.
        need_approvals: usize,
        /// Departments needed.
        need_departments: usize,
    },
    /// The file does not read.
    #[error("{path}: {reason}")]
    BadFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// The policies an update names, and the ones it was given for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherPolicies {
    /// The policy in force the file names.
    pub file_old: PolicyId,
    /// The successor the file names.
    pub file_new: PolicyId,
    /// The policy in force.
    pub old: PolicyId,
    /// The successor given.
    pub new: PolicyId,
}

impl Classify for UpdateError {
    fn exit_code(&self) -> ExitCode {
        match self {
            UpdateError::BadApproval(_) | UpdateError::TooFewApprovals { .. } => ExitCode::Refused,
            _ => ExitCode::BadInput,
        }
    }
}

/// The digest an approver of `old` signs to approve changing it into `new`.
pub fn update_digest(old: &VaultPolicy, new: PolicyId, approver: &ApproverId) -> [u8; 32] {
    let tag = sha256::Hash::hash(UPDATE_TAG);
    let mut engine = sha256::Hash::engine();
    engine.input(tag.as_byte_array());
    engine.input(tag.as_byte_array());
    engine.input(&old.network().magic().to_bytes());
    let with_len = |engine: &mut sha256::HashEngine, bytes: &[u8]| {
        let len = bitcoin::consensus::encode::serialize(&bitcoin::VarInt(bytes.len() as u64));
        engine.input(&len);
        engine.input(bytes);
    };
    with_len(&mut engine, old.name().as_bytes());
    engine.input(&old.id().to_bytes());
    engine.input(&new.to_bytes());
    with_len(&mut engine, approver.as_str().as_bytes());
    sha256::Hash::from_engine(engine).to_byte_array()
}

/// One approver's approval of an update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateApproval {
    /// The approver of the old policy.
    pub approver: ApproverId,
    /// The BIP-340 signature over [`update_digest`].
    pub signature: schnorr::Signature,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateFile {
    version: u32,
    vault: String,
    network: String,
    old_policy_id: PolicyId,
    new_policy_id: PolicyId,
    approvals: Vec<UpdateApproval>,
}

/// A change of one vault's policy, with the approvals collected so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyUpdate {
    vault: String,
    network: bitcoin::Network,
    old: PolicyId,
    new: PolicyId,
    approvals: BTreeMap<ApproverId, schnorr::Signature>,
}

impl PolicyUpdate {
    /// The change of `old` into `new`, not yet approved: same vault and
    /// network, another id.
    pub fn new(old: &VaultPolicy, new: &VaultPolicy) -> Result<PolicyUpdate, UpdateError> {
        if old.name() != new.name() || old.network() != new.network() {
            return Err(UpdateError::OtherVault {
                old: old.name().to_owned(),
                old_network: old.network().to_string(),
                new: new.name().to_owned(),
                new_network: new.network().to_string(),
            });
        }
        if old.id() == new.id() {
            return Err(UpdateError::Unchanged(old.id()));
        }
        Ok(PolicyUpdate {
            vault: old.name().to_owned(),
            network: old.network(),
            old: old.id(),
            new: new.id(),
            approvals: BTreeMap::new(),
        })
    }

    /// The policy in force.
    pub fn old_id(&self) -> PolicyId {
        self.old
    }

    /// The successor.
    pub fn new_id(&self) -> PolicyId {
        self.new
    }

    /// The approvals carried, verified or not.
    pub fn approvals(&self) -> impl Iterator<Item = UpdateApproval> + '_ {
        self.approvals.iter().map(|(a, s)| UpdateApproval {
            approver: a.clone(),
            signature: *s,
        })
    }

    /// Refuses an update that is not the change of `old` into `new`.
    pub fn require_for(&self, old: &VaultPolicy, new: &VaultPolicy) -> Result<(), UpdateError> {
        if self.old != old.id() || self.new != new.id() {
            return Err(UpdateError::OtherPolicies(Box::new(OtherPolicies {
                file_old: self.old,
                file_new: self.new,
                old: old.id(),
                new: new.id(),
            })));
        }
        Ok(())
    }

    /// Adds `approver`'s approval, after checking it verifies under `old`.
    pub fn add_approval(
        &mut self,
        old: &VaultPolicy,
        approval: UpdateApproval,
    ) -> Result<(), UpdateError> {
        if !self.verifies(old, &approval.approver, &approval.signature) {
            return Err(UpdateError::BadApproval(approval.approver));
        }
        self.approvals.insert(approval.approver, approval.signature);
        Ok(())
    }

    fn verifies(&self, old: &VaultPolicy, approver: &ApproverId, sig: &schnorr::Signature) -> bool {
        let Some(known) = old.approver(approver) else {
            return false;
        };
        let digest = update_digest(old, self.new, approver);
        Secp256k1::verification_only()
            .verify_schnorr(sig, &Message::from_digest(digest), known.pubkey())
            .is_ok()
    }

    /// The update checked against the policy in force and its successor:
    /// it names both, every approval verifies under `old`, and they meet
    /// `old`'s `[rules.policy_change]` (a policy without one needs none).
    pub fn approved(
        &self,
        old: &VaultPolicy,
        new: &VaultPolicy,
    ) -> Result<ApprovedUpdate, UpdateError> {
        self.require_for(old, new)?;
        PolicyUpdate::new(old, new)?;
        let mut departments = BTreeSet::new();
        for (approver, sig) in &self.approvals {
            if !self.verifies(old, approver, sig) {
                return Err(UpdateError::BadApproval(approver.clone()));
            }
            if let Some(a) = old.approver(approver) {
                departments.insert(a.department().to_owned());
            }
        }
        if let Some(rule) = old.rules().policy_change() {
            if !rule.quorum_met(self.approvals.len(), departments.len()) {
                return Err(UpdateError::TooFewApprovals {
                    approvers: self.approvals.len(),
                    departments: departments.len(),
                    need_approvals: rule.min_approvals(),
                    need_departments: rule.min_departments(),
                });
            }
        }
        Ok(ApprovedUpdate {
            old: self.old,
            new: self.new,
            approvers: self.approvals.keys().cloned().collect(),
            departments,
            wait_blocks: old.rules().policy_change().map_or(0, |r| r.wait_blocks()),
        })
    }

    /// The update as its JSON file.
    pub fn to_json(&self) -> String {
        let file = UpdateFile {
            version: 1,
            vault: self.vault.clone(),
            network: self.network.to_string(),
            old_policy_id: self.old,
            new_policy_id: self.new,
            approvals: self.approvals().collect(),
        };
        serde_json::to_string_pretty(&file).expect("an update serializes") + "\n"
    }

    /// Reads an update file (its approvals are checked by [`PolicyUpdate::approved`]).
    pub fn read(path: &Path) -> Result<PolicyUpdate, UpdateError> {
        let bad = |reason: String| UpdateError::BadFile {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let file: UpdateFile =
            serde_json::from_str(&text).map_err(|e| bad(format!("not a policy update: {e}")))?;
        if file.version != 1 {
            return Err(bad(format!("update format {} is not known", file.version)));
        }
        let network = super::parse_network(&file.network).map_err(|e| bad(e.to_string()))?;
        let mut approvals = BTreeMap::new();
        for a in file.approvals {
            if approvals.insert(a.approver.clone(), a.signature).is_some() {
                return Err(bad(format!("{} approves twice", a.approver)));
            }
        }
        Ok(PolicyUpdate {
            vault: file.vault,
            network,
            old: file.old_policy_id,
            new: file.new_policy_id,
            approvals,
        })
    }
}

/// An update whose approvals verify and meet the policy in force's rule:
/// only [`PolicyUpdate::approved`] makes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovedUpdate {
    old: PolicyId,
    new: PolicyId,
    approvers: Vec<ApproverId>,
    departments: BTreeSet<String>,
    wait_blocks: u32,
}

impl ApprovedUpdate {
    /// The policy replaced.
    pub fn old_id(&self) -> PolicyId {
        self.old
    }
    /// The successor.
    pub fn new_id(&self) -> PolicyId {
        self.new
    }
    /// The approvers whose approvals verified.
    pub fn approvers(&self) -> &[ApproverId] {
        &self.approvers
    }
    /// Blocks the coordinator waits after announcing it.
    pub fn wait_blocks(&self) -> u32 {
        self.wait_blocks
    }
}

#[cfg(test)]
pub(crate) mod tests;

//! Approvals: BIP-340 signatures by approvers (not key holders) that a
//! cold→hot movement needs, carried in the PSBT as proprietary fields.
//!
//! What an approver signs, and how it verifies, is the policy's
//! ([`crate::policy::approval`]); this module carries approvals in PSBTs.

use std::collections::BTreeSet;

use bitcoin::psbt::raw::ProprietaryKey;
use bitcoin::secp256k1::{schnorr, Keypair, Message, Secp256k1};
use bitcoin::{Psbt, Txid};
use serde::Serialize;

use super::fields::{PREFIX, SUBTYPE_APPROVAL};
use crate::error::{Classify, ExitCode};
use crate::policy::approval::{approval_digest, verify_approval};
use crate::policy::rules::{ColdToHotRule, Movement};
use crate::policy::{ApproverId, VaultPolicy};

/// One approval as carried in a PSBT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// Who approved.
    pub approver: ApproverId,
    /// The movement kind approved.
    pub movement: Movement,
    /// BIP-340 signature over [`approval_digest`].
    pub signature: schnorr::Signature,
}

/// An approval field that could not even be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MalformedApproval {
    /// The key data, lossily as text.
    pub key: String,
    /// Why it does not decode.
    pub reason: String,
}

fn approval_key(approver: &ApproverId) -> ProprietaryKey {
    ProprietaryKey {
        prefix: PREFIX.to_vec(),
        subtype: SUBTYPE_APPROVAL,
        key: approver.as_str().as_bytes().to_vec(),
    }
}

/// Every custodia approval field in the PSBT, decoded where possible.
pub fn read_approvals(psbt: &Psbt) -> Vec<Result<Approval, MalformedApproval>> {
    psbt.proprietary
        .iter()
        .filter(|(k, _)| k.prefix == PREFIX && k.subtype == SUBTYPE_APPROVAL)
        .map(|(k, v)| decode(&k.key, v))
        .collect()
}

fn decode(key: &[u8], value: &[u8]) -> Result<Approval, MalformedApproval> {
    let bad = |reason: &str| MalformedApproval {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: reason.to_owned(),
    };
    let approver = std::str::from_utf8(key)
        .ok()
        .and_then(|s| s.parse::<ApproverId>().ok())
        .ok_or_else(|| bad("the key is not an approver id"))?;
    if value.len() != 65 {
        return Err(bad(
            "the value is not 65 bytes (movement code and signature)",
        ));
    }
    let movement = Movement::from_code(value[0]).ok_or_else(|| bad("unknown movement code"))?;
    let signature =
        schnorr::Signature::from_slice(&value[1..]).map_err(|_| bad("not a BIP-340 signature"))?;
    Ok(Approval {
        approver,
        movement,
        signature,
    })
}

/// Creates the approval of `approver` with `keypair` for `movement` of the
/// transaction `txid`. The caller checks first that `keypair` is the
/// approver's key in the policy ([`add_approval`] refuses otherwise).
pub fn sign_approval(
    policy: &VaultPolicy,
    txid: Txid,
    movement: Movement,
    approver: &ApproverId,
    keypair: &Keypair,
) -> Approval {
    let secp = Secp256k1::signing_only();
    let digest = approval_digest(policy, txid, movement, approver);
    let signature = secp.sign_schnorr_no_aux_rand(&Message::from_digest(digest), keypair);
    Approval {
        approver: approver.clone(),
        movement,
        signature,
    }
}

/// Why an approval could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApprovalError {
    /// The approver id is not in the policy.
    #[error("approver `{0}` is not in the policy; use an id from its [[approvers]] list")]
    UnknownApprover(ApproverId),
    /// The key is not the approver's key in the policy.
    #[error("this approval key is not the key of approver `{0}` in the policy; check the --approver id and the key file")]
    WrongKey(ApproverId),
    /// The signature does not verify for this PSBT.
    #[error("the approval of `{0}` does not verify for this PSBT; nothing was added")]
    DoesNotVerify(ApproverId),
    /// The approver already approved this PSBT.
    #[error("the PSBT already carries an approval of `{0}`; nothing was added")]
    AlreadyApproved(ApproverId),
}

impl Classify for ApprovalError {
    fn exit_code(&self) -> ExitCode {
        match self {
            ApprovalError::AlreadyApproved(_) => ExitCode::Refused,
            _ => ExitCode::BadInput,
        }
    }
}

/// Adds `approval` to the PSBT after checking that it verifies against the
/// policy for this PSBT's txid. An approver approves once.
pub fn add_approval(
    policy: &VaultPolicy,
    psbt: &mut Psbt,
    approval: &Approval,
) -> Result<(), ApprovalError> {
    let who = approval.approver.clone();
    if policy.approver(&approval.approver).is_none() {
        return Err(ApprovalError::UnknownApprover(who));
    }
    if !verify_approval(
        policy,
        psbt.unsigned_tx.compute_txid(),
        approval.movement,
        &approval.approver,
        &approval.signature,
    ) {
        return Err(ApprovalError::DoesNotVerify(who));
    }
    let key = approval_key(&approval.approver);
    if psbt.proprietary.contains_key(&key) {
        return Err(ApprovalError::AlreadyApproved(who));
    }
    let mut value = vec![approval.movement.code()];
    value.extend_from_slice(approval.signature.as_ref());
    psbt.proprietary.insert(key, value);
    Ok(())
}

/// What one approval field counts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Counts toward the quorum.
    Valid,
    /// The approver is not in the policy.
    UnknownApprover,
    /// It approves another kind of movement.
    WrongMovement,
    /// The signature does not verify: another txid, policy, network, or forged.
    BadSignature,
    /// Another approver with the same key already counted.
    DuplicateKey,
    /// The field does not decode.
    Malformed,
}

/// One approval field and what it counts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalCheck {
    /// The approver id as written in the PSBT.
    pub approver: String,
    /// The approver's department, if the approver is in the policy.
    pub department: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// Words for people.
    pub reason: String,
}

/// All approvals of a PSBT checked against the policy and one movement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalStatus {
    /// Each field, in key order.
    pub checks: Vec<ApprovalCheck>,
    /// Approvers whose approval is valid.
    pub valid_approvers: BTreeSet<ApproverId>,
    /// Their departments.
    pub departments: BTreeSet<String>,
}

impl ApprovalStatus {
    /// Whether these approvals meet the cold→hot rule's quorum.
    pub fn meets(&self, rule: &ColdToHotRule) -> bool {
        rule.quorum_met(self.valid_approvers.len(), self.departments.len())
    }
}

/// Checks every approval in the PSBT for `movement` of this PSBT's
/// transaction under `policy`. Invalid, foreign and duplicate approvals are
/// reported and do not count.
pub fn approval_status(policy: &VaultPolicy, psbt: &Psbt, movement: Movement) -> ApprovalStatus {
    let txid = psbt.unsigned_tx.compute_txid();
    let mut status = ApprovalStatus {
        checks: Vec::new(),
        valid_approvers: BTreeSet::new(),
        departments: BTreeSet::new(),
    };
    let mut keys_seen = BTreeSet::new();
    for entry in read_approvals(psbt) {
        let check =
            match entry {
                Err(m) => ApprovalCheck {
                    approver: m.key,
                    department: None,
                    verdict: Verdict::Malformed,
                    reason: m.reason,
                },
                Ok(a) => {
                    let approver = policy.approver(&a.approver);
                    let (verdict, reason) = match approver {
                    None => (
                        Verdict::UnknownApprover,
                        "not an approver of this policy".to_owned(),
                    ),
                    Some(_) if a.movement != movement => (
                        Verdict::WrongMovement,
                        format!(
                            "approves a {}, this is a {}",
                            a.movement.describe(),
                            movement.describe()
                        ),
                    ),
                    Some(_)
                        if !verify_approval(policy, txid, a.movement, &a.approver, &a.signature) =>
                    {
                        (
                        Verdict::BadSignature,
                            "signature does not verify for this transaction, policy and network"
                                .to_owned(),
                        )
                    }
                    Some(p) if !keys_seen.insert(*p.pubkey()) => (
                        Verdict::DuplicateKey,
                        "same key as an approver already counted".to_owned(),
                    ),
                    Some(_) => (Verdict::Valid, "valid".to_owned()),
                };
                    if verdict == Verdict::Valid {
                        let p = approver.expect("valid approvals have an approver");
                        status.valid_approvers.insert(a.approver.clone());
                        status.departments.insert(p.department().to_owned());
                    }
                    ApprovalCheck {
                        approver: a.approver.to_string(),
                        department: approver.map(|p| p.department().to_owned()),
                        verdict,
                        reason,
                    }
                }
            };
        status.checks.push(check);
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_decode_strictly() {
        // Well-formed fields decode; whether they verify is judged later.
        assert!(decode(b"sato", &[1; 65]).is_ok());
        assert!(decode(b"sato", &[1; 64]).is_err());
        assert!(decode(b"sato", &[99; 65]).is_err());
        assert!(decode(b"not an id!", &[1; 65]).is_err());
    }
}

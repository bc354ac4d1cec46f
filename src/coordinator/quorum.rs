//! What has come back for a proposal: which approvers have approved, which
//! departments are missing, and how many main-path signatures each input has.

use std::collections::BTreeSet;

use bitcoin::{Psbt, Txid};
use serde::Serialize;

use crate::policy::ApproverId;
use crate::psbt::{ApprovalStatus, Movement, RuleCheck, RuleId};

use super::error::CoordinatorError;
use super::vault::Coordinator;

/// Signatures on one input.
#[derive(Debug, Clone, Serialize)]
pub struct InputSignatures {
    /// Input position.
    pub index: usize,
    /// Signatures present.
    pub signatures: usize,
    /// Signatures the wallet's quorum needs.
    pub needed: usize,
}

/// An approver whose approval verifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovedBy {
    /// The approver id.
    pub approver: ApproverId,
    /// The approver's department.
    pub department: String,
}

/// Approvals and signatures of a proposal, from one or more copies of it.
#[derive(Debug, Clone, Serialize)]
pub struct CollectionStatus {
    /// The unsigned transaction's id.
    pub txid: Txid,
    /// The movement (if the inputs come from one vault wallet).
    pub movement: Option<Movement>,
    /// Whether the movement needs approvals.
    pub approvals_required: bool,
    /// Approvals needed.
    pub min_approvals: usize,
    /// Departments needed.
    pub min_departments: usize,
    /// Approvers whose approval verifies, with their department.
    pub approved_by: Vec<ApprovedBy>,
    /// Departments with at least one valid approval.
    pub departments_approved: Vec<String>,
    /// Departments of the policy without a valid approval yet.
    pub departments_missing: Vec<String>,
    /// Whether the approval quorum is met (true when none is needed).
    pub approvals_complete: bool,
    /// Every approval field and its verdict.
    pub approval_checks: Vec<crate::psbt::approvals::ApprovalCheck>,
    /// Signatures per input.
    pub inputs: Vec<InputSignatures>,
    /// Whether every input has its quorum of signatures.
    pub signatures_complete: bool,
    /// Rules other than approvals that fail (should be none for our proposals).
    pub other_failures: Vec<RuleCheck>,
}

impl CollectionStatus {
    /// The status for people.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "transaction {} ({})\n",
            self.txid,
            self.movement.map_or("unclassified", |m| m.describe())
        );
        if self.approvals_required {
            let who: Vec<String> = self
                .approved_by
                .iter()
                .map(|a| format!("{} ({})", a.approver, a.department))
                .collect();
            s.push_str(&format!(
                "approvals: {} of {} needed, from {} of {} departments needed: {}\n",
                self.approved_by.len(),
                self.min_approvals,
                self.departments_approved.len(),
                self.min_departments,
                if who.is_empty() {
                    "none yet".to_owned()
                } else {
                    who.join(", ")
                }
            ));
            if !self.approvals_complete {
                s.push_str(&format!(
                    "departments without an approval yet: {}\n",
                    self.departments_missing.join(", ")
                ));
            }
            for c in &self.approval_checks {
                if c.verdict != crate::psbt::approvals::Verdict::Valid {
                    s.push_str(&format!(
                        "  ignored approval by {}: {}\n",
                        c.approver, c.reason
                    ));
                }
            }
        } else {
            s.push_str("approvals: none needed for this movement\n");
        }
        for i in &self.inputs {
            s.push_str(&format!(
                "input {}: {} of {} signatures\n",
                i.index, i.signatures, i.needed
            ));
        }
        for f in &self.other_failures {
            s.push_str(&format!("PROBLEM: {} ({})\n", f.reason, f.rule.as_str()));
        }
        s.push_str(match (self.approvals_complete, self.signatures_complete) {
            (true, true) => "ready to finalize\n",
            (false, _) => "not ready: approvals missing\n",
            (true, false) => "not ready: signatures missing\n",
        });
        s
    }
}

impl Coordinator {
    /// The approvals and signatures of a (merged) PSBT.
    pub fn collection_status(&self, psbt: &Psbt) -> Result<CollectionStatus, CoordinatorError> {
        let policy = self.policy();
        let review = self.review(psbt, &self.daily_spending()?)?;
        let rule = policy.rules().cold_to_hot();
        let approvals_required = review.movement().is_some_and(Movement::needs_approvals);
        let empty = ApprovalStatus {
            checks: Vec::new(),
            valid_approvers: BTreeSet::new(),
            departments: BTreeSet::new(),
        };
        let status = review.approvals().cloned().unwrap_or(empty);
        let approved_by: Vec<ApprovedBy> = status
            .valid_approvers
            .iter()
            .map(|a| ApprovedBy {
                approver: a.clone(),
                // Only approvers of the policy count as valid.
                department: policy
                    .approver(a)
                    .map(|p| p.department().to_owned())
                    .unwrap_or_default(),
            })
            .collect();
        let departments_missing = policy
            .departments()
            .into_iter()
            .filter(|d| !status.departments.contains(*d))
            .map(str::to_owned)
            .collect();
        let recovery = review.recovery();
        let needed = review
            .source()
            .map(|t| match (recovery, policy.wallet(t).recovery()) {
                (true, Some(path)) => path.threshold(),
                _ => policy.wallet(t).threshold(),
            })
            .unwrap_or(usize::MAX);
        // A proof's challenge input is never signed.
        let challenges: BTreeSet<usize> = review
            .inputs()
            .iter()
            .filter(|i| i.challenge)
            .map(|i| i.index)
            .collect();
        let inputs: Vec<InputSignatures> = psbt
            .inputs
            .iter()
            .enumerate()
            .filter(|(index, _)| !challenges.contains(index))
            .map(|(index, i)| InputSignatures {
                index,
                signatures: if i.final_script_witness.is_some() {
                    needed
                } else {
                    path_signatures(i, recovery)
                },
                needed,
            })
            .collect();
        Ok(CollectionStatus {
            txid: review.txid(),
            movement: review.movement(),
            approvals_required,
            min_approvals: if approvals_required {
                rule.min_approvals()
            } else {
                0
            },
            min_departments: if approvals_required {
                rule.min_departments()
            } else {
                0
            },
            departments_approved: status.departments.iter().cloned().collect(),
            approvals_complete: !approvals_required || status.meets(rule),
            approved_by,
            departments_missing,
            approval_checks: status.checks.clone(),
            signatures_complete: inputs.iter().all(|i| i.signatures >= i.needed),
            inputs,
            other_failures: review
                .failures()
                .filter(|f| f.rule != RuleId::Approvals)
                .cloned()
                .collect(),
        })
    }
}

/// Whether a derivation path ends on a main-path chain (`…/0/i` or `…/1/i`);
/// recovery keys derive on chains 2 and 3.
fn on_main_chain(path: &bitcoin::bip32::DerivationPath) -> bool {
    let steps: Vec<_> = path.into_iter().collect();
    matches!(
        steps.as_slice(),
        [.., chain, _] if matches!(u32::from(**chain), 0 | 1)
    )
}

/// Signatures by keys of the main path (chains 0 and 1) or, for a spend
/// on the recovery path, of the recovery path (chains 2 and 3).
fn path_signatures(input: &bitcoin::psbt::Input, recovery: bool) -> usize {
    let on_path = |path: &bitcoin::bip32::DerivationPath| on_main_chain(path) != recovery;
    let ecdsa = input
        .partial_sigs
        .keys()
        .filter(|pk| {
            input
                .bip32_derivation
                .get(&pk.inner)
                .is_none_or(|(_, path)| on_path(path))
        })
        .count();
    let schnorr: std::collections::BTreeSet<_> = input
        .tap_script_sigs
        .keys()
        .filter(|(key, _)| {
            input
                .tap_key_origins
                .get(key)
                .is_none_or(|(_, (_, path))| on_path(path))
        })
        .map(|(key, _)| *key)
        .collect();
    ecdsa.max(schnorr.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_main_chains_count() {
        let path = |s: &str| s.parse::<bitcoin::bip32::DerivationPath>().unwrap();
        assert!(on_main_chain(&path("m/48'/1'/0'/2'/0/5")));
        assert!(on_main_chain(&path("m/48'/1'/0'/2'/1/0")));
        assert!(!on_main_chain(&path("m/48'/1'/0'/2'/2/5")));
        assert!(!on_main_chain(&path("m/48'/1'/0'/2'/3/5")));
        assert!(!on_main_chain(&path("m/0'/5")));
    }

    #[test]
    fn recovery_spends_count_recovery_chains() {
        let mut input = bitcoin::psbt::Input::default();
        let secp = bitcoin::secp256k1::Secp256k1::new();
        for (n, chain) in [(1u8, 0), (2, 2), (3, 3)] {
            let sk = bitcoin::secp256k1::SecretKey::from_slice(&[n; 32]).unwrap();
            let pk = bitcoin::PublicKey::new(sk.public_key(&secp));
            let path = format!("m/48'/1'/0'/2'/{chain}/7").parse().unwrap();
            input
                .bip32_derivation
                .insert(pk.inner, (Default::default(), path));
            let sig = secp.sign_ecdsa(&bitcoin::secp256k1::Message::from_digest([9; 32]), &sk);
            input.partial_sigs.insert(
                pk,
                bitcoin::ecdsa::Signature {
                    signature: sig,
                    sighash_type: bitcoin::EcdsaSighashType::All,
                },
            );
        }
        assert_eq!(path_signatures(&input, false), 1);
        assert_eq!(path_signatures(&input, true), 2);
    }

    use crate::coordinator::test_vault::{TestVault, BTC};
    use crate::policy::Tier;
    use crate::psbt::approvals::Verdict;

    fn department_list(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }

    #[test]
    fn approvals_count_across_copies_by_approver_and_department() {
        let v = TestVault::new();
        v.fund(Tier::Cold, 10 * BTC);
        let p = v.transfer(Tier::Cold, BTC, "transfer.psbt").unwrap();
        let unsigned = v.read_psbt(&p.file);

        // Two treasury approvals in two copies: two approvers, one department.
        let mut by_sato = unsigned.clone();
        v.approve(&mut by_sato, "sato", Movement::ColdToHot);
        let mut by_ito = unsigned.clone();
        v.approve(&mut by_ito, "ito", Movement::ColdToHot);
        // Tanaka approves another kind of movement: reported, not counted.
        v.approve(&mut by_ito, "tanaka", Movement::HotToCold);
        let copies = [
            v.write_psbt("sato.psbt", &by_sato),
            v.write_psbt("ito.psbt", &by_ito),
        ];
        let status = v.coordinator.approvals(&copies).unwrap();
        assert_eq!(status.txid, p.txid);
        assert_eq!(status.movement, Some(Movement::ColdToHot));
        assert!(status.approvals_required);
        assert_eq!((status.min_approvals, status.min_departments), (2, 2));
        assert_eq!(
            status.approved_by,
            vec![
                ApprovedBy {
                    approver: "ito".parse().unwrap(),
                    department: "treasury".into()
                },
                ApprovedBy {
                    approver: "sato".parse().unwrap(),
                    department: "treasury".into()
                },
            ]
        );
        assert_eq!(department_list(&status.departments_approved), ["treasury"]);
        assert_eq!(
            department_list(&status.departments_missing),
            ["compliance", "risk"]
        );
        assert!(!status.approvals_complete);
        let tanaka = status
            .approval_checks
            .iter()
            .find(|c| c.approver == "tanaka")
            .expect("tanaka's approval is reported");
        assert_eq!(tanaka.verdict, Verdict::WrongMovement);
        assert_eq!(status.inputs.len(), 1);
        assert_eq!(
            (status.inputs[0].signatures, status.inputs[0].needed),
            (0, 3)
        );
        assert!(!status.signatures_complete);
        assert!(
            status.other_failures.is_empty(),
            "{:?}",
            status.other_failures
        );

        // A compliance approval in a third copy completes the quorum.
        let mut by_suzuki = unsigned;
        v.approve(&mut by_suzuki, "suzuki", Movement::ColdToHot);
        let copies = [
            copies[0].clone(),
            copies[1].clone(),
            v.write_psbt("suzuki.psbt", &by_suzuki),
        ];
        let status = v.coordinator.approvals(&copies).unwrap();
        assert_eq!(status.approved_by.len(), 3);
        assert_eq!(
            department_list(&status.departments_approved),
            ["compliance", "treasury"]
        );
        assert_eq!(department_list(&status.departments_missing), ["risk"]);
        assert!(status.approvals_complete);
        assert!(!status.signatures_complete);
    }

    #[test]
    fn a_hot_to_cold_transfer_needs_no_approvals() {
        let v = TestVault::new();
        v.fund(Tier::Hot, BTC);
        let p = v.transfer(Tier::Hot, BTC / 2, "back.psbt").unwrap();
        let status = v
            .coordinator
            .collection_status(&v.read_psbt(&p.file))
            .unwrap();
        assert_eq!(status.movement, Some(Movement::HotToCold));
        assert!(!status.approvals_required);
        assert_eq!((status.min_approvals, status.min_departments), (0, 0));
        assert!(status.approvals_complete);
        assert_eq!(
            (status.inputs[0].signatures, status.inputs[0].needed),
            (0, 2)
        );
    }
}

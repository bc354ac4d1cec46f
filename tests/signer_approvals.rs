//! Approvals of cold→hot movements: forged, foreign, replayed and
//! one-department approvals do not count; an approver sees what its own adds.

mod signer_fixtures;

use bitcoin::hashes::Hash;
use bitcoin::{Psbt, Txid};
use custodia::policy::{ApproverId, Tier};
use custodia::psbt::approvals::{sign_approval, Verdict};
use custodia::psbt::fields::{PREFIX, SUBTYPE_APPROVAL};
use custodia::psbt::{
    add_approval, approval_status, ApprovablePsbt, ApprovalOutlook, Movement, RuleId,
};
use signer_fixtures::*;

// ---------- approvals ----------

#[test]
fn cold_to_hot_without_enough_approvals() {
    let policy = policy("regtest-exchange");
    let mut psbt = cold_to_hot(&policy, 2 * BTC);
    assert_refused(&policy, &psbt, RuleId::Approvals);
    approve(&policy, &mut psbt, &["tanaka"]);
    assert_refused(&policy, &psbt, RuleId::Approvals);
}

#[test]
fn an_approvers_outlook_counts_its_own_approval_and_what_is_still_needed() {
    let policy = policy("regtest-exchange");
    let outlook = |psbt: &Psbt, who: &str| {
        let approvable = ApprovablePsbt::check(&policy, psbt.clone(), &today()).unwrap();
        ApprovalOutlook::of(&approvable, &who.parse().unwrap())
    };
    let mut psbt = cold_to_hot(&policy, 2 * BTC);
    let first = outlook(&psbt, "sato");
    assert!(first.needs_approvals && !first.already_approved && !first.quorum_met());
    assert_eq!((first.approvals, first.departments.len()), (1, 1));
    assert_eq!((first.min_approvals, first.min_departments), (2, 2));

    approve(&policy, &mut psbt, &["sato"]);
    // Approving twice adds nothing; a second treasury approver adds an
    // approval but no department; compliance completes the quorum.
    let again = outlook(&psbt, "sato");
    assert!(again.already_approved && !again.quorum_met());
    assert_eq!(again.approvals, 1);
    let same_department = outlook(&psbt, "ito");
    assert_eq!(same_department.approvals, 2);
    assert_eq!(same_department.departments.len(), 1);
    assert!(!same_department.quorum_met());
    assert!(same_department
        .to_string()
        .ends_with("still needed: 1 more approval(s), from 1 department(s) other than treasury"));
    assert!(outlook(&psbt, "suzuki").quorum_met());

    // A hot payout needs no approvals at all.
    let payout = spend(
        &policy,
        &[(at(Tier::Hot, 0, 0), sat(BTC))],
        &[(To::Address(payee(1)), sat(BTC - 5_000))],
    );
    assert!(!outlook(&payout, "sato").needs_approvals);
}

#[test]
fn approvals_all_from_one_department() {
    let policy = policy("regtest-exchange");
    let mut psbt = cold_to_hot(&policy, 2 * BTC);
    approve(&policy, &mut psbt, &["sato", "ito"]); // both treasury
    let r = assert_refused(&policy, &psbt, RuleId::Approvals);
    assert_eq!(r.approvals().unwrap().valid_approvers.len(), 2);
}

fn insert_raw_approval(psbt: &mut Psbt, who: &str, value: Vec<u8>) {
    psbt.proprietary.insert(
        bitcoin::psbt::raw::ProprietaryKey {
            prefix: PREFIX.to_vec(),
            subtype: SUBTYPE_APPROVAL,
            key: who.as_bytes().to_vec(),
        },
        value,
    );
}

#[test]
fn approval_for_a_different_txid_does_not_count() {
    let policy = policy("regtest-exchange");
    let mut psbt = cold_to_hot(&policy, 2 * BTC);
    approve(&policy, &mut psbt, &["sato"]);
    let other = Txid::from_byte_array([9; 32]);
    let id: ApproverId = "suzuki".parse().unwrap();
    let a = sign_approval(
        &policy,
        other,
        Movement::ColdToHot,
        &id,
        &approver_keypair("suzuki"),
    );
    assert!(add_approval(&policy, &mut psbt.clone(), &a).is_err());
    let mut value = vec![Movement::ColdToHot.code()];
    value.extend_from_slice(a.signature.as_ref());
    insert_raw_approval(&mut psbt, "suzuki", value);
    let r = assert_refused(&policy, &psbt, RuleId::Approvals);
    let status = r.approvals().unwrap();
    let check = status
        .checks
        .iter()
        .find(|c| c.approver == "suzuki")
        .unwrap();
    assert_eq!(check.verdict, Verdict::BadSignature);
}

#[test]
fn forged_approval_signature_does_not_count() {
    let policy = policy("regtest-exchange");
    let mut psbt = cold_to_hot(&policy, 2 * BTC);
    approve(&policy, &mut psbt, &["sato"]);
    let r = review(&policy, &psbt);
    // Signed with sato's key but filed as tanaka's.
    let tanaka: ApproverId = "tanaka".parse().unwrap();
    let forged = sign_approval(
        &policy,
        r.txid(),
        Movement::ColdToHot,
        &tanaka,
        &approver_keypair("sato"),
    );
    let mut value = vec![Movement::ColdToHot.code()];
    value.extend_from_slice(forged.signature.as_ref());
    insert_raw_approval(&mut psbt, "tanaka", value);
    // And an approver the policy does not know, and garbage.
    insert_raw_approval(&mut psbt, "mallory", vec![1; 65]);
    insert_raw_approval(&mut psbt, "x", vec![1, 2, 3]);
    let r = assert_refused(&policy, &psbt, RuleId::Approvals);
    let verdicts: Vec<_> = r
        .approvals()
        .unwrap()
        .checks
        .iter()
        .map(|c| (c.approver.clone(), c.verdict.clone()))
        .collect();
    assert!(
        verdicts.contains(&("tanaka".into(), Verdict::BadSignature)),
        "{verdicts:?}"
    );
    assert!(verdicts.contains(&("mallory".into(), Verdict::UnknownApprover)));
    assert!(verdicts.contains(&("x".into(), Verdict::Malformed)));
    assert!(verdicts.contains(&("sato".into(), Verdict::Valid)));
}

#[test]
fn approval_for_another_movement_kind_does_not_count() {
    let policy = policy("regtest-exchange");
    let mut psbt = cold_to_hot(&policy, 2 * BTC);
    approve(&policy, &mut psbt, &["sato"]);
    let r = review(&policy, &psbt);
    let id: ApproverId = "suzuki".parse().unwrap();
    let a = sign_approval(
        &policy,
        r.txid(),
        Movement::ColdConsolidation,
        &id,
        &approver_keypair("suzuki"),
    );
    let mut value = vec![a.movement.code()];
    value.extend_from_slice(a.signature.as_ref());
    insert_raw_approval(&mut psbt, "suzuki", value);
    let status = approval_status(&policy, &psbt, Movement::ColdToHot);
    assert!(status
        .checks
        .iter()
        .any(|c| c.verdict == Verdict::WrongMovement));
    assert_refused(&policy, &psbt, RuleId::Approvals);
}

#[test]
fn approvals_of_another_policy_do_not_count() {
    let exchange = policy("regtest-exchange");
    let taproot = policy("regtest-taproot");
    let mut psbt = cold_to_hot(&exchange, 2 * BTC);
    let r = review(&exchange, &psbt);
    for who in ["sato", "suzuki"] {
        let id: ApproverId = who.parse().unwrap();
        // Same approver keys, same txid, but signed for the other policy.
        let a = sign_approval(
            &taproot,
            r.txid(),
            Movement::ColdToHot,
            &id,
            &approver_keypair(who),
        );
        let mut value = vec![a.movement.code()];
        value.extend_from_slice(a.signature.as_ref());
        insert_raw_approval(&mut psbt, who, value);
    }
    assert_refused(&exchange, &psbt, RuleId::Approvals);
}

#[test]
fn an_approver_approves_once() {
    let policy = policy("regtest-exchange");
    let mut psbt = cold_to_hot(&policy, 2 * BTC);
    approve(&policy, &mut psbt, &["sato"]);
    let r = review(&policy, &psbt);
    let id: ApproverId = "sato".parse().unwrap();
    let again = sign_approval(
        &policy,
        r.txid(),
        Movement::ColdToHot,
        &id,
        &approver_keypair("sato"),
    );
    assert!(add_approval(&policy, &mut psbt, &again).is_err());
}

//! Each test builds a PSBT that attacks one check of the signer, and shows
//! that the review names the broken rule and that no signer signs it. The
//! happy paths sign and finalize. Output values, lock times and signatures
//! already present are in `signer_output_checks.rs`; limits in `signer_limits.rs`.

mod signer_fixtures;

use bitcoin::bip32::Xpub;
use bitcoin::hashes::Hash;
use bitcoin::psbt::PsbtSighashType;
use bitcoin::secp256k1::Secp256k1;
use bitcoin::sighash::EcdsaSighashType;
use bitcoin::{Network, Psbt, Txid};
use custodia::policy::{ApproverId, Tier, VaultPolicy};
use custodia::psbt::approvals::{sign_approval, Verdict};
use custodia::psbt::fields::{policy_id_key, PREFIX, SUBTYPE_APPROVAL};
use custodia::psbt::{
    add_approval, approval_status, ApprovablePsbt, ApprovalOutlook, Movement, PsbtDocument,
    PsbtError, Review, RuleId, SignablePsbt,
};
use custodia::signer::signing::{sign_psbt, SigningError};
use miniscript::psbt::PsbtExt;
use signer_fixtures::*;

// ---------- happy paths ----------

#[test]
fn cold_to_hot_with_approvals_signs_and_finalizes() {
    let policy = policy("regtest-exchange");
    let mut psbt = cold_to_hot(&policy, 2 * BTC);
    approve(&policy, &mut psbt, &["sato", "suzuki"]);
    let r = review(&policy, &psbt);
    assert!(r.passes(), "{}", r.to_text());
    assert_eq!(r.movement(), Some(Movement::ColdToHot));
    assert_eq!(r.moved().to_sat(), 2 * BTC);
    assert_eq!(r.fee().map(|f| f.to_sat()), Some(10_000));
    let text = r.to_text();
    assert!(
        text.contains("cold → hot transfer") && text.contains("WOULD SIGN"),
        "{text}"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["movement"], "cold-to-hot");
    assert_eq!(json["would_sign"], true);

    let signed = sign_all(&policy, &psbt, &["cold-1", "cold-3", "cold-5"]);
    assert_eq!(signed.inputs[0].partial_sigs.len(), 3);
    // Only signatures were added: the unsigned tx and other fields are intact.
    assert_eq!(signed.unsigned_tx, psbt.unsigned_tx);
    let mut final_psbt = signed.clone();
    final_psbt.finalize_mut(&Secp256k1::new()).unwrap();
    let tx = final_psbt.extract_tx().unwrap();
    assert_eq!(tx.input[0].witness.len(), 5); // empty, 3 sigs, script
}

#[test]
fn hot_payout_to_allowlisted_payee_signs() {
    let policy = policy("regtest-exchange");
    let psbt = hot_payout(&policy, 1, BTC / 2);
    let r = review(&policy, &psbt);
    assert_eq!(r.movement(), Some(Movement::HotPayout));
    let signed = sign_all(&policy, &psbt, &["hot-1", "hot-2"]);
    let mut fin = signed;
    fin.finalize_mut(&Secp256k1::new()).unwrap();
}

#[test]
fn taproot_cold_to_hot_signs_script_path_and_finalizes() {
    let policy = policy("regtest-taproot");
    let mut psbt = cold_to_hot(&policy, BTC);
    approve(&policy, &mut psbt, &["sato", "tanaka"]);
    let signed = sign_all(&policy, &psbt, &["cold-2", "cold-3", "cold-4"]);
    assert_eq!(signed.inputs[0].tap_script_sigs.len(), 3);
    assert!(signed.inputs[0].partial_sigs.is_empty());
    let mut fin = signed;
    fin.finalize_mut(&Secp256k1::new()).unwrap();
}

#[test]
fn consolidation_needs_no_approvals_and_signs_many_inputs_in_one_pass() {
    let policy = policy("regtest-exchange");
    let inputs: Vec<_> = (0..20).map(|i| (at(Tier::Hot, 0, i), sat(BTC))).collect();
    let psbt = spend(
        &policy,
        &inputs,
        &[(To::Vault(at(Tier::Hot, 1, 0)), sat(20 * BTC - 50_000))],
    );
    let r = review(&policy, &psbt);
    assert_eq!(r.movement(), Some(Movement::HotConsolidation));
    let mut fin = sign_all(&policy, &psbt, &["hot-2", "hot-3"]);
    fin.finalize_mut(&Secp256k1::new()).unwrap();
}

#[test]
fn signer_without_a_key_of_the_wallet_refuses() {
    let policy = policy("regtest-exchange");
    let psbt = hot_payout(&policy, 1, BTC / 2);
    let err = sign_psbt(&signable(&policy, &psbt), &master("cold-1")).unwrap_err();
    assert!(matches!(err, SigningError::NoKeyOfWallet { .. }), "{err}");
}

#[test]
fn what_is_signed_is_exactly_what_was_reviewed() {
    // A signable PSBT owns the PSBT it reviewed and gives no mutable access:
    // the signed copy differs from it only by the signature.
    let policy = policy("regtest-exchange");
    let psbt = hot_payout(&policy, 1, BTC / 2);
    let checked = signable(&policy, &psbt);
    assert_eq!(checked.psbt(), &psbt);
    let mut signed = sign_psbt(&checked, &master("hot-1")).unwrap().psbt;
    assert_eq!(signed.inputs[0].partial_sigs.len(), 1);
    signed.inputs[0].partial_sigs.clear();
    assert_eq!(signed, psbt);
}

// ---------- outputs ----------

#[test]
fn output_swapped_to_outside_address_while_claiming_change() {
    let policy = policy("regtest-exchange");
    let mut psbt = cold_to_hot(&policy, 2 * BTC);
    approve(&policy, &mut psbt, &["sato", "suzuki"]);
    // The derivation of cold change stays; the script is an outsider's.
    psbt.unsigned_tx.output[1].script_pubkey = payee(3).script_pubkey();
    let r = assert_refused(&policy, &psbt, RuleId::OutputClaims);
    assert!(r.outputs()[1].false_claim);
    assert!(!r.check(RuleId::Destinations).unwrap().passed);
}

#[test]
fn cold_paying_an_external_address() {
    let policy = policy("regtest-exchange");
    let psbt = spend(
        &policy,
        &[(at(Tier::Cold, 0, 0), sat(BTC))],
        &[(To::Address(payee(1)), sat(BTC - 10_000))],
    );
    let r = assert_refused(&policy, &psbt, RuleId::Destinations);
    assert_eq!(r.movement(), Some(Movement::ColdPayout));
}

#[test]
fn hot_paying_outside_the_allowlist() {
    let policy = policy("regtest-exchange");
    let r = assert_refused(
        &policy,
        &hot_payout(&policy, 3, BTC / 2),
        RuleId::Destinations,
    );
    assert!(r.to_text().contains("NOT allowlisted"));
}

// ---------- amounts, daily limits, fees ----------

#[test]
fn cold_to_hot_over_the_amount_limit() {
    let policy = policy("regtest-exchange");
    let mut psbt = cold_to_hot(&policy, 6 * BTC);
    approve(&policy, &mut psbt, &["sato", "suzuki"]);
    assert_refused(&policy, &psbt, RuleId::Amount);
}

#[test]
fn fee_rate_over_the_cap() {
    let policy = policy("regtest-exchange");
    // 0.009 BTC on a ~350 vB transaction: under the absolute cap, ~2,500 sat/vB.
    let psbt = hot_payout(&policy, 1, BTC / 2);
    let mut psbt2 = psbt.clone();
    psbt2.unsigned_tx.output[1].value = sat(3 * BTC - BTC / 2 - 900_000);
    let r = assert_refused(&policy, &psbt2, RuleId::FeeRate);
    assert!(r.check(RuleId::Fee).unwrap().passed);
}

#[test]
fn absolute_fee_over_the_cap() {
    let policy = policy("regtest-exchange");
    // 120 inputs make ~12,600 vB, so 0.02 BTC stays under 200 sat/vB.
    let inputs: Vec<_> = (0..120).map(|i| (at(Tier::Hot, 0, i), sat(BTC))).collect();
    let psbt = spend(
        &policy,
        &inputs,
        &[(To::Vault(at(Tier::Hot, 1, 0)), sat(120 * BTC - 2_000_000))],
    );
    let r = assert_refused(&policy, &psbt, RuleId::Fee);
    assert!(r.check(RuleId::FeeRate).unwrap().passed, "{}", r.to_text());
}

// ---------- previous outputs ----------

#[test]
fn segwit_v0_input_without_full_previous_transaction() {
    let policy = policy("regtest-exchange");
    let mut psbt = hot_payout(&policy, 1, BTC / 2);
    psbt.inputs[0].non_witness_utxo = None;
    assert_refused(&policy, &psbt, RuleId::PreviousOutputs);
}

#[test]
fn full_previous_transaction_with_another_txid() {
    let policy = policy("regtest-exchange");
    let mut psbt = hot_payout(&policy, 1, BTC / 2);
    let prev = psbt.inputs[0].non_witness_utxo.clone().unwrap();
    psbt.inputs[0].non_witness_utxo = Some(funding_tx(
        prev.output[0].script_pubkey.clone(),
        sat(30 * BTC),
        999,
    ));
    assert_refused(&policy, &psbt, RuleId::PreviousOutputs);
}

#[test]
fn witness_utxo_amount_lying() {
    let policy = policy("regtest-exchange");
    let mut psbt = hot_payout(&policy, 1, BTC / 2);
    psbt.inputs[0].witness_utxo.as_mut().unwrap().value = sat(2 * BTC);
    assert_refused(&policy, &psbt, RuleId::PreviousOutputs);
}

// ---------- sighash types ----------

fn with_sighash(ty: EcdsaSighashType) {
    let policy = policy("regtest-exchange");
    let mut psbt = hot_payout(&policy, 1, BTC / 2);
    psbt.inputs[0].sighash_type = Some(PsbtSighashType::from(ty));
    assert_refused(&policy, &psbt, RuleId::Sighash);
}

#[test]
fn sighash_none_is_refused() {
    with_sighash(EcdsaSighashType::None);
}

#[test]
fn sighash_single_is_refused() {
    with_sighash(EcdsaSighashType::Single);
}

#[test]
fn sighash_anyonecanpay_is_refused() {
    with_sighash(EcdsaSighashType::AllPlusAnyoneCanPay);
}

#[test]
fn explicit_sighash_all_is_accepted() {
    let policy = policy("regtest-exchange");
    let mut psbt = hot_payout(&policy, 1, BTC / 2);
    psbt.inputs[0].sighash_type = Some(PsbtSighashType::from(EcdsaSighashType::All));
    sign_all(&policy, &psbt, &["hot-1"]);
}

// ---------- inputs ----------

#[test]
fn input_not_from_the_vault() {
    let policy = policy("regtest-exchange");
    let mut psbt = hot_payout(&policy, 1, BTC / 2);
    // An outsider's coin whose PSBT fields still claim a vault derivation.
    let foreign = funding_tx(payee(2).script_pubkey(), sat(3 * BTC), 0);
    psbt.unsigned_tx.input[0].previous_output.txid = foreign.compute_txid();
    psbt.inputs[0].witness_utxo = Some(foreign.output[0].clone());
    psbt.inputs[0].non_witness_utxo = Some(foreign);
    let r = assert_refused(&policy, &psbt, RuleId::InputsFromVault);
    assert_eq!(r.source(), None);
}

#[test]
fn inputs_from_both_wallets() {
    let policy = policy("regtest-exchange");
    let psbt = spend(
        &policy,
        &[
            (at(Tier::Hot, 0, 0), sat(BTC)),
            (at(Tier::Cold, 0, 0), sat(BTC)),
        ],
        &[(To::Vault(at(Tier::Hot, 1, 0)), sat(2 * BTC - 20_000))],
    );
    assert_refused(&policy, &psbt, RuleId::OneWallet);
}

// ---------- the address range (gap 5) ----------

/// The policy's highest address index: nothing beyond it is watched.
fn max_index(policy: &VaultPolicy) -> u32 {
    policy.rules().addresses().max_index()
}

#[test]
fn change_beyond_the_policys_max_index_is_refused() {
    let policy = policy("regtest-exchange");
    let max = max_index(&policy);
    let payout = |change: u32| {
        spend(
            &policy,
            &[(at(Tier::Hot, 0, 0), sat(BTC))],
            &[
                (To::Address(payee(1)), sat(BTC / 2)),
                (To::Vault(at(Tier::Hot, 1, change)), sat(BTC / 2 - 10_000)),
            ],
        )
    };
    // Verified change at the last index of the range is fine …
    let r = Review::of(&policy, &payout(max), &today());
    assert!(r.passes(), "{}", r.to_text());
    // … one further would vanish from balances and the cold ratio.
    let r = assert_refused(&policy, &payout(max + 1), RuleId::AddressRange);
    assert_eq!(r.outputs()[1].owner, Some(at(Tier::Hot, 1, max + 1)));
    // Far beyond, where the coordinator and auditor never look.
    assert_refused(&policy, &payout(99_999), RuleId::AddressRange);
}

#[test]
fn a_cold_to_hot_transfer_to_a_hot_address_beyond_the_range_is_refused() {
    let policy = policy("regtest-exchange");
    let mut psbt = spend(
        &policy,
        &[(at(Tier::Cold, 0, 0), sat(3 * BTC))],
        &[
            (
                To::Vault(at(Tier::Hot, 0, max_index(&policy) + 1)),
                sat(2 * BTC),
            ),
            (To::Vault(at(Tier::Cold, 1, 0)), sat(BTC - 10_000)),
        ],
    );
    approve(&policy, &mut psbt, &["tanaka", "suzuki"]);
    let r = assert_refused(&policy, &psbt, RuleId::AddressRange);
    // The approvals were good: the address range alone refuses it.
    assert!(
        r.check(RuleId::Approvals).unwrap().passed,
        "{}",
        r.to_text()
    );
}

#[test]
fn an_input_beyond_the_policys_max_index_is_refused() {
    let policy = policy("regtest-exchange");
    let psbt = spend(
        &policy,
        &[(at(Tier::Hot, 0, max_index(&policy) + 1), sat(BTC))],
        &[(To::Address(payee(1)), sat(BTC - 5_000))],
    );
    assert_refused(&policy, &psbt, RuleId::AddressRange);
}

#[test]
fn a_policy_with_a_wider_range_signs_what_the_default_refuses() {
    let default = policy("regtest-exchange");
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/regtest-exchange.toml"),
    )
    .unwrap()
    .replace("max_index = 1000", "max_index = 5000");
    let wider = VaultPolicy::from_toml(&text).unwrap();
    assert_eq!(max_index(&wider), 5000);
    assert_ne!(
        wider.id(),
        default.id(),
        "the range is part of the policy id"
    );
    let psbt = spend(
        &wider,
        &[(at(Tier::Hot, 0, 0), sat(BTC))],
        &[
            (To::Address(payee(1)), sat(BTC / 2)),
            (To::Vault(at(Tier::Hot, 1, 4000)), sat(BTC / 2 - 10_000)),
        ],
    );
    let r = Review::of(&wider, &psbt, &today());
    assert!(r.passes(), "{}", r.to_text());
}

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

// ---------- policy and network ----------

#[test]
fn psbt_naming_another_policy() {
    let policy = policy("regtest-exchange");
    let mut psbt = cold_to_hot(&policy, 2 * BTC);
    approve(&policy, &mut psbt, &["sato", "suzuki"]);
    let other = custodia::policy::PolicyId::from_bytes([1; 32]);
    psbt.proprietary
        .insert(policy_id_key(), other.to_bytes().to_vec());
    assert_refused(&policy, &psbt, RuleId::PolicyId);
    psbt.proprietary.remove(&policy_id_key());
    let r = assert_refused(&policy, &psbt, RuleId::PolicyId);
    assert!(r.to_text().contains("coordinator"));
}

#[test]
fn psbt_for_another_network() {
    let policy = policy("regtest-exchange");
    let mut psbt = hot_payout(&policy, 1, BTC / 2);
    let secp = Secp256k1::new();
    let mainnet = bitcoin::bip32::Xpriv::new_master(Network::Bitcoin, &[3; 32]).unwrap();
    let xpub = Xpub::from_priv(&secp, &mainnet);
    psbt.xpub.insert(
        xpub,
        (xpub.fingerprint(), bitcoin::bip32::DerivationPath::master()),
    );
    assert_refused(&policy, &psbt, RuleId::Network);
}

#[test]
fn signer_of_another_network_cannot_match_its_key() {
    // A testnet-derived seed of the same words matches fingerprints, but a
    // mainnet master key never derives the policy's tpub.
    let policy = policy("regtest-exchange");
    let psbt = hot_payout(&policy, 1, BTC / 2);
    let m = bip39::Mnemonic::parse(mnemonic("hot-1")).unwrap();
    let main = bitcoin::bip32::Xpriv::new_master(Network::Bitcoin, &m.to_seed("")).unwrap();
    let err = sign_psbt(&signable(&policy, &psbt), &main.into()).unwrap_err();
    assert!(matches!(err, SigningError::SeedMismatch(_)), "{err}");
}

// ---------- reading ----------

#[test]
fn garbage_and_truncated_psbts_are_bad_input() {
    let policy = policy("regtest-exchange");
    let psbt = hot_payout(&policy, 1, BTC / 2);
    let bytes = psbt.serialize();
    for cut in [1, 10, bytes.len() / 2, bytes.len() - 1] {
        let err = PsbtDocument::from_bytes(&bytes[..cut]).unwrap_err();
        assert_eq!(custodia::cli::exit_code_for(&err).code(), 2, "{err}");
    }
    let mut longer = bytes.clone();
    longer.extend([0, 0]);
    assert!(matches!(
        PsbtDocument::from_bytes(&longer),
        Err(PsbtError::TrailingBytes(2))
    ));
    assert!(PsbtDocument::from_bytes(b"not a psbt at all").is_err());
    // Both encodings read back to the same PSBT.
    let doc = PsbtDocument::from_bytes(&bytes).unwrap();
    assert_eq!(doc.psbt(), &psbt);
    let b64 = psbt.to_string();
    assert_eq!(
        PsbtDocument::from_bytes(b64.as_bytes()).unwrap().psbt(),
        &psbt
    );
}

#[test]
fn signed_psbt_is_written_back_with_only_signatures_added() {
    let policy = policy("regtest-exchange");
    let psbt = hot_payout(&policy, 1, BTC / 2);
    let doc = PsbtDocument::from_bytes(psbt.to_string().as_bytes()).unwrap();
    let signed = sign_psbt(&signable(&policy, doc.psbt()), &master("hot-3"))
        .unwrap()
        .psbt;
    let out = doc.encode(&signed, doc.encoding()).unwrap();
    let back = PsbtDocument::from_bytes(&out).unwrap();
    assert_eq!(back.psbt(), &signed);
    assert_eq!(back.psbt().inputs[0].partial_sigs.len(), 1);
}

// ---------- robustness ----------

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// Damaged PSBTs are refused or reviewed, never a panic; one that still
    /// passes every rule signs without panicking.
    #[test]
    fn damaged_psbts_never_panic(
        flips in proptest::collection::vec((0usize..100_000, proptest::prelude::any::<u8>()), 1..4),
        cut in proptest::option::of(0usize..100_000),
    ) {
        let policy = policy("regtest-exchange");
        let mut bytes = hot_payout(&policy, 1, BTC / 2).serialize();
        for (pos, byte) in flips {
            let i = pos % bytes.len();
            bytes[i] = byte;
        }
        if let Some(c) = cut {
            bytes.truncate(c % (bytes.len() + 1));
        }
        if let Ok(doc) = PsbtDocument::from_bytes(&bytes) {
            let r = review(&policy, doc.psbt());
            let _ = r.to_text();
            let checked = SignablePsbt::check(&policy, doc.psbt().clone(), &today());
            proptest::prop_assert_eq!(checked.is_ok(), r.passes());
            if let Ok(checked) = checked {
                proptest::prop_assert!(sign_psbt(&checked, &master("hot-1")).is_ok());
            }
        }
    }
}

#[test]
fn the_same_coin_spent_twice() {
    let policy = policy("regtest-exchange");
    let mut psbt = spend(
        &policy,
        &[
            (at(Tier::Hot, 0, 0), sat(BTC)),
            (at(Tier::Hot, 0, 1), sat(BTC)),
        ],
        &[(To::Vault(at(Tier::Hot, 1, 0)), sat(2 * BTC - 20_000))],
    );
    psbt.unsigned_tx.input[1] = psbt.unsigned_tx.input[0].clone();
    psbt.inputs[1] = psbt.inputs[0].clone();
    assert_refused(&policy, &psbt, RuleId::InputsFromVault);
}

#[test]
fn payout_amount_counts_only_what_leaves_the_vault() {
    let policy = policy("regtest-exchange");
    let psbt = spend(
        &policy,
        &[(at(Tier::Hot, 0, 0), sat(3 * BTC))],
        &[
            (To::Address(payee(2)), sat(BTC / 4)),
            (To::Vault(at(Tier::Cold, 0, 9)), sat(2 * BTC)),
            (
                To::Vault(at(Tier::Hot, 1, 1)),
                sat(3 * BTC - BTC / 4 - 2 * BTC - 9_000),
            ),
        ],
    );
    let r = review(&policy, &psbt);
    assert!(r.passes(), "{}", r.to_text());
    assert_eq!(r.movement(), Some(Movement::HotPayout));
    assert_eq!(r.moved().to_sat(), BTC / 4);
}

// ---------- PSBTs made by Bitcoin Core (tests/data/psbt) ----------

/// Core's `createpsbt` + `utxoupdatepsbt` output, recorded by the interop test:
/// read offline in both versions, tagged, approved, signed and finalized.
#[test]
fn core_made_psbts_v0_and_v2_are_read_reviewed_and_signed_offline() {
    for (policy_name, signers) in [
        ("regtest-exchange", ["cold-1", "cold-2", "cold-3"]),
        ("regtest-taproot", ["cold-3", "cold-4", "cold-5"]),
    ] {
        let policy = policy(policy_name);
        for version in [0, 2] {
            let file = crate_path(&format!(
                "tests/data/psbt/core-{policy_name}-cold-to-hot-v{version}.b64"
            ));
            let doc = PsbtDocument::read(&file).unwrap();
            let want = match version {
                0 => custodia::psbt::PsbtVersion::V0,
                _ => custodia::psbt::PsbtVersion::V2,
            };
            assert_eq!(doc.version(), want);
            let r = review(&policy, doc.psbt());
            let failing: Vec<RuleId> = r.failures().map(|c| c.rule).collect();
            assert_eq!(
                failing,
                [RuleId::PolicyId, RuleId::Approvals],
                "{}",
                r.to_text()
            );

            let mut psbt = doc.psbt().clone();
            custodia::psbt::set_policy_id(&mut psbt, policy.id()).unwrap();
            approve(&policy, &mut psbt, &["suzuki", "tanaka"]);
            for encoding in [
                custodia::psbt::Encoding::Base64,
                custodia::psbt::Encoding::Binary,
            ] {
                let bytes = doc.encode(&psbt, encoding).unwrap();
                let tagged = PsbtDocument::from_bytes(&bytes).unwrap();
                assert_eq!(tagged.version(), want);
                assert_eq!(tagged.encoding(), encoding);
                assert_eq!(tagged.psbt(), &psbt);
            }
            let mut fin = sign_all(&policy, &psbt, &signers);
            fin.finalize_mut(&Secp256k1::new()).unwrap();
        }
    }
}

#[test]
fn derivations_naming_many_paths_are_not_followed() {
    let policy = policy("regtest-exchange");
    let mut psbt = hot_payout(&policy, 1, BTC / 2);
    // Copy the real claim under many other indexes: too many to check.
    let (fp, path) = psbt.inputs[0]
        .bip32_derivation
        .values()
        .next()
        .cloned()
        .unwrap();
    let account: Vec<_> = path.into_iter().take(4).cloned().collect();
    for i in 0..10u32 {
        let mut p = account.clone();
        p.push(bitcoin::bip32::ChildNumber::Normal { index: 0 });
        p.push(bitcoin::bip32::ChildNumber::Normal { index: 500 + i });
        let fake = bitcoin::secp256k1::PublicKey::from_secret_key(
            &Secp256k1::new(),
            &bitcoin::secp256k1::SecretKey::from_slice(&[i as u8 + 1; 32]).unwrap(),
        );
        psbt.inputs[0].bip32_derivation.insert(fake, (fp, p.into()));
    }
    assert_refused(&policy, &psbt, RuleId::InputsFromVault);
}

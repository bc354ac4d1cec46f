//! Each test builds a PSBT that attacks one check of the signer, and shows
//! that the review names the broken rule and that no signer signs it. The
//! happy paths sign and finalize. Output values, lock times and signatures
//! already present are in `signer_output_checks.rs`; limits in
//! `signer_limits.rs`; the address range in `signer_address_range.rs`;
//! approvals in `signer_approvals.rs`; reading hostile and foreign PSBTs in
//! `signer_reading.rs`.

mod signer_fixtures;

use bitcoin::bip32::Xpub;
use bitcoin::psbt::PsbtSighashType;
use bitcoin::secp256k1::Secp256k1;
use bitcoin::sighash::EcdsaSighashType;
use bitcoin::Network;
use custodia::policy::Tier;
use custodia::psbt::fields::policy_id_key;
use custodia::psbt::{Movement, RuleId};
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

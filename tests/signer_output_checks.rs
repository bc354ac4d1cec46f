//! Checks on what a PSBT's outputs and lock times say beyond where the money
//! goes — dust and zero values, sums that overflow, dated and relative locks —
//! and on signatures already in the PSBT for the signer's own key.

mod signer_fixtures;

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::Secp256k1;
use bitcoin::{Psbt, Txid};
use custodia::policy::{Tier, VaultPolicy};
use custodia::psbt::{Movement, PsbtDocument, PsbtError, Review, RuleId, SignatureSlot};
use custodia::signer::signing::{sign_event, sign_psbt, SignedPsbt};
use miniscript::psbt::PsbtExt;
use signer_fixtures::*;

// ---------- output values, lock time, sequences ----------

fn reason_of(r: &Review, rule: RuleId) -> String {
    r.check(rule).unwrap().reason.clone()
}

/// Signs `psbt` as `signer`, with nothing signed yet today.
fn sign_as(policy: &VaultPolicy, psbt: &Psbt, signer: &str) -> SignedPsbt {
    sign_psbt(&signable(policy, psbt), &master(signer)).unwrap()
}

#[test]
fn dust_output_is_refused() {
    let policy = policy("regtest-exchange");
    // A payout of 293 sat to a P2WPKH address, one below its dust threshold.
    let psbt = hot_payout(&policy, 1, 293);
    let r = assert_refused(&policy, &psbt, RuleId::OutputValues);
    assert!(
        reason_of(&r, RuleId::OutputValues).contains("below the dust threshold of 294 sat"),
        "{}",
        r.to_text()
    );
    // Vault change (P2WSH) of 329 sat, one below 330.
    let psbt = spend(
        &policy,
        &[(at(Tier::Hot, 0, 2), sat(BTC))],
        &[
            (To::Address(payee(1)), sat(BTC - 329 - 5_000)),
            (To::Vault(at(Tier::Hot, 1, 4)), sat(329)),
        ],
    );
    assert_refused(&policy, &psbt, RuleId::OutputValues);
    // At the threshold both sign.
    let psbt = spend(
        &policy,
        &[(at(Tier::Hot, 0, 2), sat(BTC))],
        &[
            (To::Address(payee(1)), sat(294)),
            (To::Vault(at(Tier::Hot, 1, 4)), sat(330)),
            (To::Vault(at(Tier::Hot, 1, 5)), sat(BTC - 624 - 5_000)),
        ],
    );
    sign_all(&policy, &psbt, &["hot-1", "hot-2"]);
}

#[test]
fn zero_value_output_is_refused() {
    let policy = policy("regtest-exchange");
    let psbt = spend(
        &policy,
        &[(at(Tier::Hot, 0, 2), sat(BTC))],
        &[
            (To::Address(payee(1)), sat(BTC / 2)),
            (To::Vault(at(Tier::Hot, 1, 4)), sat(BTC / 2 - 5_000)),
            (To::Vault(at(Tier::Hot, 1, 5)), sat(0)),
        ],
    );
    let r = assert_refused(&policy, &psbt, RuleId::OutputValues);
    assert!(reason_of(&r, RuleId::OutputValues).contains("output 2 pays nothing"));
    // A zero-value OP_RETURN is refused as well (and by destinations: it has
    // no address, so it is never allowlisted).
    let mut psbt = hot_payout(&policy, 1, BTC / 2);
    psbt.unsigned_tx.output.push(bitcoin::TxOut {
        value: sat(0),
        script_pubkey: bitcoin::ScriptBuf::new_op_return([1u8; 8]),
    });
    psbt.outputs.push(Default::default());
    let r = assert_refused(&policy, &psbt, RuleId::OutputValues);
    assert!(!r.passes_except(RuleId::OutputValues));
}

#[test]
fn amount_sums_overflowing_are_refused() {
    let policy = policy("regtest-exchange");
    // Two vault outputs whose sum wraps a u64: hot to cold, both counted as moved.
    let half = u64::MAX / 2 + 1;
    let psbt = spend(
        &policy,
        &[(at(Tier::Hot, 0, 2), sat(BTC))],
        &[
            (To::Vault(at(Tier::Cold, 0, 1)), sat(half)),
            (To::Vault(at(Tier::Cold, 0, 2)), sat(half)),
        ],
    );
    let r = assert_refused(&policy, &psbt, RuleId::OutputValues);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["output_total_sat"], serde_json::Value::Null);
    assert_eq!(r.fee(), None);
    assert_eq!(r.moved(), bitcoin::Amount::MAX_MONEY);
    assert!(r.to_text().contains("invalid amount"), "{}", r.to_text());
    // One payout near u64::MAX, with earlier payouts today: the daily total
    // must not overflow either.
    let mut spent = today();
    spent.record(
        Txid::from_byte_array([4; 32]),
        Movement::HotPayout,
        sat(BTC),
    );
    let psbt = spend(
        &policy,
        &[(at(Tier::Hot, 0, 2), sat(BTC))],
        &[
            (To::Address(payee(1)), sat(u64::MAX - 10)),
            (To::Vault(at(Tier::Hot, 1, 4)), sat(BTC / 2)),
        ],
    );
    let r = assert_refused_with(&policy, &psbt, RuleId::OutputValues, &spent);
    assert!(reason_of(&r, RuleId::OutputValues).contains("more than the 21,000,000 BTC"));
}

fn with_lock_time(psbt: &mut Psbt, lock: u32) {
    psbt.unsigned_tx.lock_time = bitcoin::absolute::LockTime::from_consensus(lock);
}

#[test]
fn future_time_lock_is_refused() {
    let policy = policy("regtest-exchange");
    for lock in [1_900_000_000, 500_000_000] {
        let mut psbt = hot_payout(&policy, 1, BTC / 2);
        with_lock_time(&mut psbt, lock);
        let r = assert_refused(&policy, &psbt, RuleId::LockTime);
        assert!(
            reason_of(&r, RuleId::LockTime).contains("is a date"),
            "{}",
            r.to_text()
        );
        assert!(r.to_text().contains("Lock time: date"), "{}", r.to_text());
    }
    // A cold→hot transfer with its approvals: the approvals cover the txid,
    // lock time included, but do not make a date acceptable.
    let mut psbt = cold_to_hot(&policy, 2 * BTC);
    with_lock_time(&mut psbt, 1_900_000_000);
    approve(&policy, &mut psbt, &["sato", "suzuki"]);
    assert_refused(&policy, &psbt, RuleId::LockTime);
}

#[test]
fn relative_lock_sequence_is_refused() {
    let policy = policy("regtest-exchange");
    for sequence in [
        bitcoin::Sequence::from_height(144),
        bitcoin::Sequence::from_512_second_intervals(10),
        bitcoin::Sequence(0x7fff_ffff),
    ] {
        let mut psbt = hot_payout(&policy, 1, BTC / 2);
        psbt.unsigned_tx.input[0].sequence = sequence;
        let r = assert_refused(&policy, &psbt, RuleId::RelativeLock);
        assert!(
            r.to_text().contains("Unusual sequences: input 0"),
            "{}",
            r.to_text()
        );
    }
}

#[test]
fn anti_fee_sniping_lock_time_signs() {
    let policy = policy("regtest-exchange");
    // What Bitcoin Core, Sparrow and the coordinator build: nLockTime at the
    // current height, inputs replaceable (0xfffffffd) or not (0xfffffffe).
    for sequence in [0xffff_fffd, 0xffff_fffe, 0] {
        let mut psbt = spend(
            &policy,
            &[
                (at(Tier::Hot, 0, 2), sat(BTC)),
                (at(Tier::Hot, 0, 3), sat(BTC)),
            ],
            &[
                (To::Address(payee(1)), sat(BTC / 2)),
                (To::Vault(at(Tier::Hot, 1, 4)), sat(3 * BTC / 2 - 9_000)),
            ],
        );
        with_lock_time(&mut psbt, 850_000);
        psbt.unsigned_tx.input[1].sequence = bitcoin::Sequence(sequence);
        let r = review(&policy, &psbt);
        assert!(r.passes(), "{}", r.to_text());
        assert!(
            r.to_text()
                .contains("Lock time: block 850000, not valid before it"),
            "{}",
            r.to_text()
        );
        let mut fin = sign_all(&policy, &psbt, &["hot-1", "hot-3"]);
        fin.finalize_mut(&Secp256k1::new()).unwrap();
        fin.extract(&Secp256k1::new()).unwrap();
    }
    // A height lock with every input final is not in force; it is shown so.
    let mut psbt = hot_payout(&policy, 1, BTC / 2);
    with_lock_time(&mut psbt, 850_000);
    psbt.unsigned_tx.input[0].sequence = bitcoin::Sequence::MAX;
    let r = review(&policy, &psbt);
    assert!(r.passes(), "{}", r.to_text());
    assert!(r.to_text().contains("not enforced"), "{}", r.to_text());
}

// ---------- signatures already in the PSBT ----------

/// A signature of `signer` for input 0 of another transaction spending the
/// same vault address: well-formed, wrong for this one.
fn signature_for_another_tx(policy: &VaultPolicy, signer: &str) -> Psbt {
    let other = hot_payout(policy, 2, BTC / 3);
    sign_as(policy, &other, signer).psbt
}

#[test]
fn prefilled_bogus_signature_is_replaced() {
    let policy = policy("regtest-exchange");
    let mut psbt = hot_payout(&policy, 1, BTC / 2);
    let bogus = signature_for_another_tx(&policy, "hot-1").inputs[0]
        .partial_sigs
        .clone();
    assert_eq!(bogus.len(), 1);
    psbt.inputs[0].partial_sigs = bogus.clone();
    let doc = PsbtDocument::from_bytes(psbt.to_string().as_bytes()).unwrap();
    let r = review(&policy, doc.psbt());
    assert!(r.passes(), "{}", r.to_text());

    let SignedPsbt {
        psbt: signed,
        outcome,
    } = sign_as(&policy, doc.psbt(), "hot-1");
    assert_eq!(outcome.inputs_signed, 1);
    assert_eq!(outcome.replaced.len(), 1);
    assert_eq!(outcome.replaced[0].key.as_str(), "hot-1");
    let (pk, old) = bogus.iter().next().unwrap();
    assert_eq!(
        outcome.replaced[0].slot,
        SignatureSlot::Ecdsa {
            input: 0,
            pubkey: *pk
        }
    );
    assert_ne!(signed.inputs[0].partial_sigs[pk], *old);
    // The strict writer refuses the change unless it is named, and then
    // writes it in place of the old value.
    assert!(matches!(
        doc.encode(&signed, doc.encoding()),
        Err(PsbtError::WouldChange(_))
    ));
    let out = doc
        .encode_replacing(&signed, doc.encoding(), &outcome.replaced_slots())
        .unwrap();
    let back = PsbtDocument::from_bytes(&out).unwrap();
    assert_eq!(back.psbt(), &signed);
    let custodia::audit::Event::Sign(logged) =
        sign_event(&r, &outcome, master("hot-1").fingerprint())
    else {
        panic!("a signature logs a sign entry")
    };
    assert_eq!(logged.replaced_signatures[0].input, 0);

    // With a second key holder's signature the transaction finalizes, and
    // the interpreter accepts every signature. (The second copy still holds
    // the bogus signature; the replaced one is combined last, so it wins.)
    let mut fin = sign_as(&policy, doc.psbt(), "hot-2").psbt;
    fin.combine(back.psbt().clone()).unwrap();
    fin.finalize_mut(&Secp256k1::new()).unwrap();
    fin.extract(&Secp256k1::new()).unwrap();
}

#[test]
fn prefilled_bogus_taproot_signature_is_replaced() {
    let policy = policy("regtest-taproot");
    let mut psbt = cold_to_hot(&policy, BTC);
    approve(&policy, &mut psbt, &["sato", "tanaka"]);
    // Another transfer's signature, filed under this input's key and leaf.
    let mut other = cold_to_hot(&policy, BTC / 2);
    approve(&policy, &mut other, &["sato", "tanaka"]);
    let other = sign_as(&policy, &other, "cold-2").psbt;
    psbt.inputs[0].tap_script_sigs = other.inputs[0].tap_script_sigs.clone();

    let doc = PsbtDocument::from_bytes(&psbt.serialize()).unwrap();
    let SignedPsbt {
        psbt: signed,
        outcome,
    } = sign_as(&policy, doc.psbt(), "cold-2");
    assert_eq!(outcome.replaced.len(), 1);
    assert!(matches!(
        outcome.replaced[0].slot,
        SignatureSlot::TapScript { input: 0, .. }
    ));
    let out = doc
        .encode_replacing(&signed, doc.encoding(), &outcome.replaced_slots())
        .unwrap();
    // The other copies still hold the bogus signature; the replaced one is
    // combined last, so it wins.
    let mut fin = doc.psbt().clone();
    for s in ["cold-3", "cold-4"] {
        let copy = sign_as(&policy, doc.psbt(), s).psbt;
        fin.combine(copy).unwrap();
    }
    fin.combine(PsbtDocument::from_bytes(&out).unwrap().psbt().clone())
        .unwrap();
    fin.finalize_mut(&Secp256k1::new()).unwrap();
    fin.extract(&Secp256k1::new()).unwrap();
}

/// Signing a PSBT this signer signed already keeps its valid signature, so
/// the file writes back unchanged (taproot signatures are randomized: a new
/// one would differ).
#[test]
fn resigning_keeps_a_valid_signature() {
    for (name, signer) in [
        ("regtest-exchange", "cold-1"),
        ("regtest-taproot", "cold-2"),
    ] {
        let policy = policy(name);
        let mut psbt = cold_to_hot(&policy, BTC);
        approve(&policy, &mut psbt, &["sato", "tanaka"]);
        let doc = PsbtDocument::from_bytes(&psbt.serialize()).unwrap();
        let once = sign_as(&policy, doc.psbt(), signer).psbt;
        let first = doc.encode(&once, doc.encoding()).unwrap();

        let doc2 = PsbtDocument::from_bytes(&first).unwrap();
        let SignedPsbt {
            psbt: twice,
            outcome,
        } = sign_as(&policy, doc2.psbt(), signer);
        assert_eq!(outcome.inputs_signed, 1);
        assert!(outcome.replaced.is_empty());
        assert_eq!(doc2.encode(&twice, doc2.encoding()).unwrap(), first);
    }
}

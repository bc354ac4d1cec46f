//! Compact PSBTs (`custodia::psbt::compact`): 1-, 100- and 1,000-input
//! consolidations of the P2WSH and the taproot example vaults round-trip
//! byte for byte through strip and re-fill, with the sizes they save; a
//! compact PSBT that the registered policy does not re-derive is refused
//! with a typed reason; and a signer never reviews one as it is.

mod signer_fixtures;

use bitcoin::Psbt;
use custodia::policy::{Tier, VaultPolicy};
use custodia::psbt::compact::{
    is_compact, refill, refill_bytes, strip, CompactError, CompactPsbt, Place,
};
use custodia::psbt::fields::compact_marker_key;
use custodia::psbt::{PsbtDocument, PsbtError, RuleId};
use signer_fixtures::*;

/// `n` coins of `tier` (receive chain, indexes 0..n) to one payment to the
/// other tier and change: what a consolidation or a transfer looks like.
fn consolidation(policy: &VaultPolicy, tier: Tier, n: u32) -> Psbt {
    let inputs: Vec<_> = (0..n).map(|i| (at(tier, 0, i), sat(1_000_000))).collect();
    let total = u64::from(n) * 1_000_000;
    spend(
        policy,
        &inputs,
        &[
            (To::Vault(at(tier.other(), 0, 5)), sat(total / 2)),
            (To::Vault(at(tier, 1, 9)), sat(total / 2 - 50_000)),
        ],
    )
}

/// Strips, serializes, reads back and re-fills; returns (full, compact) sizes.
fn round_trip(policy: &VaultPolicy, psbt: &Psbt) -> (usize, usize) {
    let full = psbt.serialize();
    let compact = strip(psbt, policy).unwrap();
    let bytes = compact.serialize();
    assert_eq!(compact.stripped(), (psbt.inputs.len(), psbt.outputs.len()));
    let refilled = refill_bytes(&bytes, policy).unwrap();
    assert!(!is_compact(&refilled));
    assert_eq!(refilled.serialize(), full, "re-filled PSBT differs");
    (full.len(), bytes.len())
}

#[test]
fn consolidations_round_trip_byte_for_byte() {
    // (policy, wallet, smallest full/compact ratio accepted at 100 and
    // 1,000 inputs). P2WSH inputs keep their full previous transactions (the
    // signer's fee-lie check needs them), which dominate their size; taproot
    // inputs keep only their 41 bytes of transaction input, the map's end
    // and a hint of about 7 bytes with the amount, against about 890 bytes of
    // a full 3-of-5 input and 630 of a 2-of-3 one.
    let cases = [
        ("regtest-exchange", Tier::Cold, 3.5),
        ("regtest-exchange", Tier::Hot, 2.5),
        ("regtest-taproot", Tier::Cold, 17.0),
        ("regtest-taproot", Tier::Hot, 12.0),
    ];
    for (name, tier, min_ratio) in cases {
        let policy = policy(name);
        for n in [1, 100, 1_000] {
            let psbt = consolidation(&policy, tier, n);
            let (full, compact) = round_trip(&policy, &psbt);
            let ratio = full as f64 / compact as f64;
            println!(
                "{name:<17} {tier:<4} {n:>5} inputs: {full:>9} bytes full, {compact:>8} compact ({ratio:.1}x)"
            );
            // One input carries the transaction's fixed overhead too.
            let min_ratio = if n == 1 { min_ratio / 2.0 } else { min_ratio };
            assert!(
                ratio >= min_ratio,
                "{name} {tier} {n}: {ratio:.2} < {min_ratio}"
            );
        }
    }
}
#[test]
fn the_refilled_psbt_is_reviewed_and_signed_like_the_original() {
    let policy = policy("regtest-taproot");
    let psbt = hot_payout(&policy, 1, 50_000_000);
    let refilled = refill(&strip(&psbt, &policy).unwrap(), &policy).unwrap();
    assert_eq!(
        review(&policy, &refilled).to_text(),
        review(&policy, &psbt).to_text()
    );
    // BIP-340 signatures differ run to run (fresh auxiliary randomness):
    // compare which keys signed which leaves.
    let signers = |p: &Psbt| {
        p.inputs[0]
            .tap_script_sigs
            .keys()
            .copied()
            .collect::<Vec<_>>()
    };
    let signed = sign_all(&policy, &refilled, &["hot-1", "hot-2"]);
    assert_eq!(signers(&signed).len(), 2);
    // A signed PSBT goes back compact too: the signatures stay.
    let compact = strip(&signed, &policy).unwrap();
    assert_eq!(signers(compact.psbt()).len(), 2);
    assert_eq!(refill(&compact, &policy).unwrap(), signed);
    assert_eq!(
        signers(&signed),
        signers(&sign_all(&policy, &psbt, &["hot-1", "hot-2"]))
    );
}

#[test]
fn a_compact_psbt_is_refused_by_review() {
    let policy = policy("regtest-taproot");
    let compact = strip(&cold_to_hot(&policy, 2 * BTC), &policy).unwrap();
    let err = PsbtDocument::from_bytes(compact.psbt().to_string().as_bytes()).unwrap_err();
    assert!(matches!(err, PsbtError::Compact), "{err}");
    assert_eq!(custodia::cli::exit_code_for(&err).code(), 2);
    let r = assert_refused(&policy, compact.psbt(), RuleId::PolicyId);
    assert!(r.to_text().contains("compact"));
}

#[test]
fn signer_cli_refills_a_compact_psbt_and_signs_the_full_one() {
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    let policy = policy("regtest-exchange");
    let psbt = hot_payout(&policy, 1, BTC / 2);
    let compact = strip(&psbt, &policy).unwrap();
    let input = cli.write_psbt("compact.psbt", compact.psbt());
    let out = cli.path("signed.psbt");
    cli.sign(&input, &out).arg("--yes").assert().success();
    // What was written is the full PSBT, signed: the re-filled one plus a
    // signature and the signer's log head.
    let signed = PsbtDocument::read(&out).unwrap();
    let signed = signed.psbt();
    assert_eq!(signed.unsigned_tx, psbt.unsigned_tx);
    assert_eq!(signed.inputs[0].partial_sigs.len(), 1);
    assert_eq!(
        signed.inputs[0].bip32_derivation,
        psbt.inputs[0].bip32_derivation
    );
    assert!(!is_compact(signed));
}

#[test]
fn signer_cli_refuses_a_compact_psbt_its_policy_does_not_refill() {
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    let policy = policy("regtest-exchange");
    let compact = strip(&hot_payout(&policy, 1, BTC / 2), &policy).unwrap();
    let mut marker = compact.psbt().proprietary[&compact_marker_key()].clone();
    // Hot receive 2 named as hot receive 9.
    marker[INPUT_0_CODE + 1] = 9;
    let input = cli.path("tampered.psbt");
    std::fs::write(&input, with_marker(&compact, marker)).unwrap();
    let out = cli.path("signed.psbt");
    let before = signer_fixtures::Untouched::of(&cli, &input);
    cli.sign(&input, &out)
        .arg("--yes")
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "input 0: the script the policy derives at hot chain 0 index 9 is not its script",
        ));
    before.assert_unchanged(&out);
}

// ---------- refusals ----------

/// The compact PSBT of a 1-input cold→hot transfer and its marker's bytes.
fn compact_transfer(policy: &VaultPolicy) -> (CompactPsbt, Vec<u8>) {
    let compact = strip(&cold_to_hot(policy, 2 * BTC), policy).unwrap();
    let marker = compact.psbt().proprietary[&compact_marker_key()].clone();
    (compact, marker)
}

/// The compact PSBT with its marker's bytes replaced.
fn with_marker(compact: &CompactPsbt, marker: Vec<u8>) -> Vec<u8> {
    let mut psbt = compact.psbt().clone();
    psbt.proprietary.insert(compact_marker_key(), marker);
    psbt.serialize()
}

// Marker layout (docs/qr-compact.md): format, policy id (32 bytes), the
// number of input hints, then input 0's wallet code at 34 and its index at 35.
const INPUT_0_CODE: usize = 34;

#[test]
fn refill_against_another_policy_is_refused() {
    for name in ["regtest-exchange", "regtest-taproot"] {
        let policy = policy(name);
        let (compact, _) = compact_transfer(&policy);
        let other = signer_fixtures::policy("regtest-recovery");
        let err = refill(&compact, &other).unwrap_err();
        assert!(
            matches!(err, CompactError::PolicyMismatch { named, given } if named == policy.id() && given == other.id()),
            "{err}"
        );
    }
}

#[test]
fn a_hint_naming_no_wallet_is_refused() {
    let policy = policy("regtest-taproot");
    let (compact, mut marker) = compact_transfer(&policy);
    assert_eq!(
        marker[INPUT_0_CODE], 0x18,
        "cold receive, previous output left out"
    );
    marker[INPUT_0_CODE] = 0x30;
    let err = refill_bytes(&with_marker(&compact, marker), &policy).unwrap_err();
    assert!(
        matches!(
            err,
            CompactError::UnknownWallet {
                place: Place::Input(0),
                code: 0x30
            }
        ),
        "{err}"
    );
}

#[test]
fn a_tampered_segwit_v0_hint_is_refused() {
    let policy = policy("regtest-exchange");
    let (compact, mut marker) = compact_transfer(&policy);
    // The input is cold receive 3: name hot receive 3 instead, then cold
    // receive 4. Its full previous transaction, which its txid commits to,
    // states the script.
    marker[INPUT_0_CODE] = 0x20;
    let err = refill_bytes(&with_marker(&compact, marker.clone()), &policy).unwrap_err();
    assert!(
        matches!(err, CompactError::ScriptMismatch { place: Place::Input(0), at } if at == signer_fixtures::at(Tier::Hot, 0, 3)),
        "{err}"
    );
    marker[INPUT_0_CODE] = 0x10;
    marker[INPUT_0_CODE + 1] = 4;
    let err = refill_bytes(&with_marker(&compact, marker), &policy).unwrap_err();
    assert!(
        matches!(err, CompactError::ScriptMismatch { place: Place::Input(0), at } if at == signer_fixtures::at(Tier::Cold, 0, 4)),
        "{err}"
    );
}

/// A taproot input's previous output is re-derived from its hint, not
/// checked against one the PSBT states (format 2 leaves it out). A false
/// hint re-fills to a previous output the transaction does not spend, and
/// every signature over it is worthless: BIP-341 signatures commit to the
/// script and amount of every input's previous output.
#[test]
fn a_false_taproot_hint_yields_no_signature_the_transaction_accepts() {
    use bitcoin::hashes::Hash as _;
    use bitcoin::secp256k1::{Message, Secp256k1};
    use bitcoin::sighash::{Prevouts, SighashCache};

    let policy = policy("regtest-taproot");
    let psbt = hot_payout(&policy, 1, BTC / 2);
    let compact = strip(&psbt, &policy).unwrap();
    let mut marker = compact.psbt().proprietary[&compact_marker_key()].clone();
    assert_eq!(
        marker[INPUT_0_CODE], 0x28,
        "hot receive, previous output left out"
    );
    // Hot receive 2 becomes hot receive 7; then the amount is raised by one.
    marker[INPUT_0_CODE + 1] = 7;
    let other_script = refill_bytes(&with_marker(&compact, marker.clone()), &policy).unwrap();
    marker[INPUT_0_CODE + 1] = 2;
    // The amount (3 BTC) follows the index as 0xfe and four bytes, little
    // endian: its second byte plus one is 256 satoshis more.
    let amount_index = INPUT_0_CODE + 3;
    marker[amount_index] = marker[amount_index].wrapping_add(1);
    let other_amount = refill_bytes(&with_marker(&compact, marker), &policy).unwrap();

    let secp = Secp256k1::verification_only();
    let truth = psbt.inputs[0].witness_utxo.clone().unwrap();
    for lie in [other_script, other_amount] {
        let stated = lie.inputs[0].witness_utxo.clone().unwrap();
        assert_ne!(stated, truth);
        let signed = sign_all(&policy, &lie, &["hot-1", "hot-2"]);
        let sigs = &signed.inputs[0].tap_script_sigs;
        assert_eq!(sigs.len(), 2);
        for ((key, leaf), sig) in sigs {
            let verifies = |prevout: &bitcoin::TxOut| {
                let sighash = SighashCache::new(&signed.unsigned_tx)
                    .taproot_script_spend_signature_hash(
                        0,
                        &Prevouts::All(std::slice::from_ref(prevout)),
                        *leaf,
                        sig.sighash_type,
                    )
                    .unwrap();
                let msg = Message::from_digest(sighash.to_byte_array());
                secp.verify_schnorr(&sig.signature, &msg, key).is_ok()
            };
            assert!(verifies(&stated), "signed what the hint re-derived");
            assert!(!verifies(&truth), "a signature over a false hint verifies");
        }
    }
}

#[test]
fn a_hint_beyond_max_index_is_refused() {
    let policy = policy("regtest-taproot");
    let (compact, marker) = compact_transfer(&policy);
    // Index 1,001 (0xfd 0xe9 0x03) for input 0, one beyond max_index.
    let mut beyond = marker[..=INPUT_0_CODE].to_vec();
    beyond.extend([0xfd, 0xe9, 0x03]);
    beyond.extend(&marker[INPUT_0_CODE + 2..]);
    let err = refill_bytes(&with_marker(&compact, beyond), &policy).unwrap_err();
    assert!(
        matches!(
            err,
            CompactError::IndexBeyondRange {
                place: Place::Input(0),
                tier: Tier::Cold,
                index: 1_001,
                max_index: 1_000
            }
        ),
        "{err}"
    );
    assert_eq!(custodia::cli::exit_code_for(&err).code(), 2);
}

#[test]
fn a_script_the_policy_does_not_derive_is_refused() {
    // A segwit v0 input that states its previous output only by
    // witness_utxo (a PSBT of another wallet), claiming another script.
    let policy = policy("regtest-exchange");
    let (compact, _) = compact_transfer(&policy);
    let mut psbt = compact.psbt().clone();
    let other = policy
        .descriptor(Tier::Cold)
        .script_pubkey(custodia::policy::Chain::Receive, 8);
    psbt.inputs[0].non_witness_utxo = None;
    psbt.inputs[0].witness_utxo.as_mut().unwrap().script_pubkey = other;
    let err = refill_bytes(&psbt.serialize(), &policy).unwrap_err();
    assert!(
        matches!(
            err,
            CompactError::ScriptMismatch {
                place: Place::Input(0),
                ..
            }
        ),
        "{err}"
    );
    // A taproot input whose previous output was left out may not bring one
    // back to merge with what the hint re-derives.
    let policy = signer_fixtures::policy("regtest-taproot");
    let (compact, _) = compact_transfer(&policy);
    let mut psbt = compact.psbt().clone();
    psbt.inputs[0].witness_utxo = Some(bitcoin::TxOut {
        value: sat(10 * BTC),
        script_pubkey: other_script(&policy),
    });
    let err = refill_bytes(&psbt.serialize(), &policy).unwrap_err();
    assert!(
        matches!(
            err,
            CompactError::NotStripped {
                place: Place::Input(0)
            }
        ),
        "{err}"
    );
    // And an output whose script was swapped for an outside address.
    let mut psbt = compact.psbt().clone();
    psbt.unsigned_tx.output[1].script_pubkey = payee(3).script_pubkey();
    let err = refill_bytes(&psbt.serialize(), &policy).unwrap_err();
    assert!(
        matches!(
            err,
            CompactError::ScriptMismatch {
                place: Place::Output(1),
                ..
            }
        ),
        "{err}"
    );
}

fn other_script(policy: &VaultPolicy) -> bitcoin::ScriptBuf {
    policy
        .descriptor(Tier::Cold)
        .script_pubkey(custodia::policy::Chain::Receive, 8)
}

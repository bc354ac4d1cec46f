//! Bitcoin Core's BIP-174/BIP-370 test vectors (`tests/data/psbt/
//! core_rpc_psbt.json`, Core's `test/functional/data/rpc_psbt.json`) against
//! custodia's PSBT reader, [`PsbtDocument::from_bytes`], the one entry point
//! the signer, the approver and the coordinator read PSBT files with.
//!
//! - every `invalid` and `invalid_with_msg` vector is refused, each with the
//!   typed reason listed below;
//! - every `valid` vector is read, except the ones listed in
//!   [`DELIBERATELY_REFUSED`] with their reason; what is read writes back,
//!   unchanged, to the very bytes it came from;
//! - the creator, signer, combiner, finalizer and extractor cases: custodia
//!   reads each case's PSBTs, and where custodia does that role's work with
//!   a library routine (combining, finalizing, extracting in the
//!   coordinator) the routine gives Core's result from what custodia read.

use bitcoin::address::NetworkUnchecked;
use bitcoin::base64::engine::general_purpose::STANDARD;
use bitcoin::base64::Engine;
use bitcoin::consensus::encode::serialize_hex;
use bitcoin::{Address, Amount, Network, Psbt, Txid};
use custodia::psbt::{PsbtDocument, PsbtError, PsbtVersion};
use miniscript::psbt::PsbtExt;
use serde_json::Value;

fn vectors() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/psbt/core_rpc_psbt.json"
    ))
    .expect("Core's vectors are in tests/data/psbt");
    serde_json::from_str(&text).expect("Core's vectors are JSON")
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|s| s.as_str().expect("a string"))
        .collect()
}

fn read(b64: &str) -> PsbtDocument {
    PsbtDocument::from_bytes(b64.as_bytes())
        .unwrap_or_else(|e| panic!("custodia refuses a PSBT Core made: {e}\n{b64}"))
}

/// Why custodia refused a PSBT: the variant of [`PsbtError`], so that the
/// tables below name a typed reason and not a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NotPsbt,
    Base64,
    Truncated,
    TrailingBytes,
    DuplicateKey,
    Malformed,
    UnsupportedVersion,
    UnsupportedV2,
    PreviousTransaction,
    /// rust-bitcoin, which reads what custodia's own parser passed, refused.
    Parse,
}
use Refusal::*;

fn refusal(e: &PsbtError) -> Refusal {
    match e {
        PsbtError::NotPsbt => NotPsbt,
        PsbtError::Base64(_) => Base64,
        PsbtError::Truncated(_) => Truncated,
        PsbtError::TrailingBytes(_) => TrailingBytes,
        PsbtError::DuplicateKey { .. } => DuplicateKey,
        PsbtError::Malformed(_) => Malformed,
        PsbtError::UnsupportedVersion(_) => UnsupportedVersion,
        PsbtError::UnsupportedV2(_) => UnsupportedV2,
        PsbtError::PreviousTransaction { .. } => PreviousTransaction,
        PsbtError::Parse(_) => Parse,
        other => panic!("a refusal no vector should cause: {other:?}"),
    }
}

/// Core's `invalid` vectors, by index, and why custodia refuses each.
const INVALID: [Refusal; 63] = [
    NotPsbt,             // 0: a network transaction, not a PSBT
    Truncated,           // 1: no output maps
    Parse,               // 2: unsigned transaction with a scriptSig
    Malformed,           // 3: no unsigned transaction
    DuplicateKey,        // 4: two non-witness UTXOs in one input
    Malformed,           // 5: unsigned transaction key with key data
    Parse,               // 6: input non-witness UTXO key with key data
    Parse,               // 7: partial signature key of the wrong size
    Parse,               // 8: redeem script key with key data
    Parse,               // 9: witness script key with key data
    Parse,               // 10: BIP-32 derivation key not a public key
    Parse,               // 11: output redeem script key with key data
    Parse,               // 12: final scriptSig key with key data
    Parse,               // 13: final scriptWitness key with key data
    Parse,               // 14: output BIP-32 derivation key not a public key
    TrailingBytes,       // 15: an extra map
    Parse,               // 16: global xpub of the wrong size
    Truncated,           // 17: last output map cut short
    Base64,              // 18: base64 without its padding
    UnsupportedVersion,  // 19: PSBT_GLOBAL_VERSION 1
    DuplicateKey,        // 20: no inputs; the input map read as an output map repeats a key
    DuplicateKey,        // 21: no inputs; the input map read as an output map repeats a key
    DuplicateKey,        // 22: witness UTXO twice
    DuplicateKey,        // 23: sighash type twice
    DuplicateKey,        // 24: redeem script twice
    DuplicateKey,        // 25: witness script twice
    DuplicateKey,        // 26: final scriptSig twice
    DuplicateKey,        // 27: final scriptWitness twice
    Parse,               // 28: taproot key signature of the wrong size
    Parse,               // 29: taproot key signature of 63 bytes
    Parse,               // 30: taproot key signature of 66 bytes
    Parse,               // 31: taproot script signature key too short
    Parse,               // 32: taproot script signature key too long
    Parse,               // 33: taproot BIP-32 key too short
    Parse,               // 34: taproot BIP-32 key too long
    Parse,               // 35: taproot script signature of 66 bytes
    Truncated,           // 36: taproot leaf script cut short
    Parse,               // 37: taproot control block too short
    Parse,               // 38: taproot control block too long
    PreviousTransaction, // 39: non-witness UTXO of another transaction
    PreviousTransaction, // 40: outpoint index beyond the non-witness UTXO
    Parse,               // 41: taproot control block of a wrong size
    Malformed,           // 42: v2 with an unsigned transaction
    Malformed,           // 43: v0 with PSBT_GLOBAL_TX_VERSION
    Base64,              // 44: a `<` after the base64
    Malformed,           // 45: v0 with PSBT_GLOBAL_INPUT_COUNT
    Malformed,           // 46: v0 with PSBT_GLOBAL_OUTPUT_COUNT
    Malformed,           // 47: v0 with PSBT_GLOBAL_TX_MODIFIABLE
    Malformed,           // 48: v0 input with PSBT_IN_PREVIOUS_TXID
    Malformed,           // 49: v0 input with PSBT_IN_OUTPUT_INDEX
    Malformed,           // 50: v0 input with PSBT_IN_SEQUENCE
    Malformed,           // 51: v0 input with PSBT_IN_REQUIRED_TIME_LOCKTIME
    Malformed,           // 52: v0 input with PSBT_IN_REQUIRED_HEIGHT_LOCKTIME
    Malformed,           // 53: v0 output with PSBT_OUT_AMOUNT
    Malformed,           // 54: v0 output with PSBT_OUT_SCRIPT
    Malformed,           // 55: v2 without PSBT_GLOBAL_INPUT_COUNT
    Malformed,           // 56: v2 without PSBT_GLOBAL_OUTPUT_COUNT
    Malformed,           // 57: v2 input without PSBT_IN_PREVIOUS_TXID
    Malformed,           // 58: v2 input without PSBT_IN_OUTPUT_INDEX
    Malformed,           // 59: v2 output without PSBT_OUT_AMOUNT
    Malformed,           // 60: v2 output without PSBT_OUT_SCRIPT
    UnsupportedV2,       // 61: v2 input with a required time lock time below 500000000
    UnsupportedV2,       // 62: v2 input with a required height lock time of 500000000 or more
];

/// Core's `invalid_with_msg` vectors, by index, and why custodia refuses
/// each (Core's message in the comment).
const INVALID_WITH_MSG: [Refusal; 23] = [
    Truncated,     // 0: Input Taproot BIP32 keypath has an invalid length
    Parse,         // 1: Output Taproot tree must not be empty
    Malformed,     // 2: Size of key was not 34 for the type Input MuSig2 Participants Pubkeys
    Malformed,     // 3: Input musig2 aggregate pubkey is invalid
    Malformed,     // 4: Input musig2 aggregate pubkey is invalid
    Malformed,     // 5: Input musig2 aggregate pubkey is invalid
    Malformed,     // 6: Input musig2 participant pubkey is invalid
    Malformed,     // 7: Input musig2 participants pubkeys value size is not a multiple of 33
    Malformed,     // 8: Size of key was not 34 for the type Output MuSig2 Participants Pubkeys
    Malformed,     // 9: Output musig2 participant pubkey is invalid
    Malformed,     // 10: Input musig2 pubnonce key is not expected size
    Malformed,     // 11: Input musig2 pubnonce key is not expected size
    Malformed,     // 12: Input musig2 pubnonce value is not 66 bytes
    Malformed,     // 13: Input musig2 partial sig key is not expected size
    Malformed,     // 14: Input musig2 partial sig key is not expected size
    Malformed,     // 15: Size of value was not the stated size (a partial signature)
    Malformed,     // 16: musig2 participant pubkey is invalid
    Malformed,     // 17: musig2 participant pubkey is invalid
    Malformed,     // 18: musig2 aggregate pubkey is invalid
    Malformed,     // 19: musig2 aggregate pubkey is invalid
    Malformed,     // 20: PSBT_GLOBAL_UNSIGNED_TX is not allowed in PSBTv2
    Malformed,     // 21: PSBT_GLOBAL_TX_VERSION is required in PSBTv2
    UnsupportedV2, // 22: Required height based locktime is invalid (0)
];

/// `valid` vectors custodia refuses on purpose, by index, with the reason.
///
/// Both are v2 PSBTs whose inputs require a lock time
/// (PSBT_IN_REQUIRED_TIME_LOCKTIME / _HEIGHT_LOCKTIME). BIP-370 makes the
/// transaction's lock time a function of every input's requirement; custodia
/// refuses to compute it for the signer and asks for the PSBT as version 0,
/// where the lock time is written in the transaction that is reviewed
/// (`psbt::v2`, `PsbtError::UnsupportedV2`).
const DELIBERATELY_REFUSED: [(usize, Refusal); 2] = [(37, UnsupportedV2), (47, UnsupportedV2)];

#[test]
fn every_invalid_vector_is_refused_for_its_reason() {
    let v = vectors();
    let invalid = strings(&v["invalid"]);
    assert_eq!(invalid.len(), INVALID.len(), "Core's file changed");
    for (i, (psbt, expected)) in invalid.iter().zip(INVALID).enumerate() {
        match PsbtDocument::from_bytes(psbt.as_bytes()) {
            Ok(_) => panic!("invalid vector {i} was read"),
            Err(e) => assert_eq!(refusal(&e), expected, "invalid vector {i}: {e}"),
        }
    }
}

#[test]
fn every_invalid_vector_with_a_message_is_refused_for_its_reason() {
    let v = vectors();
    let cases = v["invalid_with_msg"].as_array().unwrap();
    assert_eq!(cases.len(), INVALID_WITH_MSG.len(), "Core's file changed");
    for (i, (case, expected)) in cases.iter().zip(INVALID_WITH_MSG).enumerate() {
        let (psbt, message) = (case[0].as_str().unwrap(), case[1].as_str().unwrap());
        match PsbtDocument::from_bytes(psbt.as_bytes()) {
            Ok(_) => panic!("invalid vector {i} ({message}) was read"),
            Err(e) => assert_eq!(refusal(&e), expected, "vector {i} ({message}): {e}"),
        }
    }
}

#[test]
fn every_valid_vector_is_read_and_written_back_as_it_came() {
    let v = vectors();
    let valid = strings(&v["valid"]);
    assert_eq!(valid.len(), 48, "Core's file changed");
    for (i, psbt) in valid.iter().enumerate() {
        let refused = DELIBERATELY_REFUSED.iter().find(|(n, _)| *n == i);
        let result = PsbtDocument::from_bytes(psbt.as_bytes());
        let doc = match (result, refused) {
            (Err(e), Some((_, why))) => {
                assert_eq!(refusal(&e), *why, "valid vector {i}: {e}");
                continue;
            }
            (Ok(_), Some(_)) => panic!("valid vector {i} is listed as refused but was read"),
            (Err(e), None) => panic!("valid vector {i} was refused: {e}"),
            (Ok(doc), None) => doc,
        };
        let binary = STANDARD.decode(psbt).unwrap();
        let is_v2 = binary.windows(7).any(|w| w == [1, 0xfb, 4, 2, 0, 0, 0]);
        let expected_version = if is_v2 {
            PsbtVersion::V2
        } else {
            PsbtVersion::V0
        };
        assert_eq!(doc.version(), expected_version, "valid vector {i}");
        // Nothing added: the same bytes, in the same version.
        assert_eq!(
            doc.write_back(doc.psbt()).unwrap(),
            binary,
            "valid vector {i} does not write back as it came"
        );
        if doc.version() == PsbtVersion::V0 {
            assert_eq!(
                doc.psbt(),
                &Psbt::deserialize(&binary).unwrap(),
                "valid vector {i}: custodia and rust-bitcoin read different PSBTs"
            );
        }
    }
}

/// The creator case: custodia never creates a PSBT from bare outpoints (the
/// coordinator's wallet does, with the vault's derivations), so what is
/// checked is that Core's result reads and holds what was asked for.
#[test]
fn the_created_psbt_reads_with_the_inputs_and_outputs_asked_for() {
    let v = vectors();
    for case in v["creator"].as_array().unwrap() {
        let doc = read(case["result"].as_str().unwrap());
        assert_eq!(case["version"], 0);
        assert_eq!(doc.version(), PsbtVersion::V0);
        let tx = &doc.psbt().unsigned_tx;
        let inputs = case["inputs"].as_array().unwrap();
        assert_eq!(tx.input.len(), inputs.len());
        for (txin, asked) in tx.input.iter().zip(inputs) {
            let txid: Txid = asked["txid"].as_str().unwrap().parse().unwrap();
            assert_eq!(txin.previous_output.txid, txid);
            assert_eq!(u64::from(txin.previous_output.vout), asked["vout"]);
        }
        let outputs = case["outputs"].as_array().unwrap();
        assert_eq!(tx.output.len(), outputs.len());
        for (txout, asked) in tx.output.iter().zip(outputs) {
            let (address, btc) = asked.as_object().unwrap().iter().next().unwrap();
            let address: Address<NetworkUnchecked> = address.parse().unwrap();
            let address = address.require_network(Network::Regtest).unwrap();
            assert_eq!(txout.script_pubkey, address.script_pubkey());
            let amount = Amount::from_btc(btc.as_f64().unwrap()).unwrap();
            assert_eq!(txout.value, amount);
        }
    }
}

/// The signer cases sign with bare WIF keys; custodia's signer signs only
/// with its own seed for a registered policy's inputs, so Core's signing is
/// not redone. What is checked: custodia reads the PSBT before and after,
/// and would write the signed one back over the original as a signer does,
/// adding fields and changing none (the check custodia makes of its own
/// signer's output).
#[test]
fn signed_psbts_read_and_only_add_to_what_was_signed() {
    let v = vectors();
    for (i, case) in v["signer"].as_array().unwrap().iter().enumerate() {
        let before = read(case["psbt"].as_str().unwrap());
        let after = read(case["result"].as_str().unwrap());
        let written = before
            .write_back(after.psbt())
            .unwrap_or_else(|e| panic!("signer case {i}: {e}"));
        let again = PsbtDocument::from_bytes(&written).unwrap();
        assert_eq!(again.psbt(), after.psbt(), "signer case {i}");
    }
}

/// The coordinator combines what custodia read with rust-bitcoin's
/// `Psbt::combine` (`coordinator::finalize`); that gives Core's result.
#[test]
fn combining_what_custodia_reads_gives_cores_result() {
    let v = vectors();
    for case in v["combiner"].as_array().unwrap() {
        let mut parts = strings(&case["combine"]).into_iter().map(read);
        let mut merged = parts.next().unwrap().psbt().clone();
        for part in parts {
            merged.combine(part.psbt().clone()).unwrap();
        }
        assert_eq!(&merged, read(case["result"].as_str().unwrap()).psbt());
    }
}

/// The coordinator finalizes what custodia read with miniscript's
/// `finalize_mut` (`coordinator::finalize`); that gives Core's final
/// scripts.
#[test]
fn finalizing_what_custodia_reads_gives_cores_final_scripts() {
    let v = vectors();
    let secp = bitcoin::secp256k1::Secp256k1::verification_only();
    for case in v["finalizer"].as_array().unwrap() {
        let mut psbt = read(case["finalize"].as_str().unwrap()).psbt().clone();
        psbt.finalize_mut(&secp).unwrap();
        let expected = read(case["result"].as_str().unwrap());
        for (i, (ours, core)) in psbt.inputs.iter().zip(&expected.psbt().inputs).enumerate() {
            assert_eq!(ours.final_script_sig, core.final_script_sig, "input {i}");
            assert_eq!(
                ours.final_script_witness, core.final_script_witness,
                "input {i}"
            );
        }
    }
}

/// The coordinator extracts the network transaction with rust-bitcoin's
/// `extract_tx` (`coordinator::finalize`); that gives Core's transaction.
#[test]
fn extracting_from_what_custodia_reads_gives_cores_transaction() {
    let v = vectors();
    for case in v["extractor"].as_array().unwrap() {
        let psbt = read(case["extract"].as_str().unwrap()).psbt().clone();
        let tx = psbt.extract_tx().unwrap();
        assert_eq!(serialize_hex(&tx), case["result"].as_str().unwrap());
    }
}

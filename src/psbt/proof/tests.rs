use bitcoin::{Amount, ScriptBuf};

use super::*;
use crate::psbt::classify::{Destination, OutputReview};

#[test]
fn messages_are_one_line_of_text() {
    assert_eq!(ProofMessage::new(""), Err(BadProofMessage::Empty));
    assert_eq!(ProofMessage::new("   "), Err(BadProofMessage::Empty));
    assert_eq!(
        ProofMessage::new(&"x".repeat(MAX_MESSAGE_LEN + 1)),
        Err(BadProofMessage::TooLong(MAX_MESSAGE_LEN + 1))
    );
    assert!(ProofMessage::new(&"x".repeat(MAX_MESSAGE_LEN)).is_ok());
    assert_eq!(
        ProofMessage::new("audit\nsigned"),
        Err(BadProofMessage::ControlCharacter)
    );
    assert_eq!(
        ProofMessage::new("audit \u{1b}[2J"),
        Err(BadProofMessage::ControlCharacter)
    );
    assert_eq!(
        ProofMessage::new("監査 2026-12-03").unwrap().as_str(),
        "監査 2026-12-03"
    );
}

#[test]
fn the_challenge_is_bip127s() {
    // Computed independently: SHA256d("Proof-of-Reserves: " ‖ message),
    // shown in txid (reversed) byte order.
    let m = ProofMessage::new("audit 2026-12-03 nonce 42").unwrap();
    assert_eq!(
        m.challenge().txid.to_string(),
        "882b6d818d289586403f61837c61ec59661f6e8b6d510f67b5dba7fdcac1beab"
    );
    assert_eq!(m.challenge().vout, 0);
    // P2PKH of HASH160(0x00), the script BIP-127 proofs pay to.
    assert_eq!(
        unspendable_script().to_hex_string(),
        "76a9149f7fd096d37ed2c0e3f7f0cfc924beef4ffceb6888ac"
    );
}

#[test]
fn the_message_field_round_trips_and_malformed_ones_are_named() {
    let m = ProofMessage::new("audit").unwrap();
    let mut psbt = build(&m, Vec::new());
    assert_eq!(proof_message(&psbt), Some(Ok(m.clone())));
    assert_eq!(psbt.unsigned_tx.input[0].previous_output, m.challenge());
    assert_eq!(
        psbt.unsigned_tx.output[0].script_pubkey,
        unspendable_script()
    );
    psbt.proprietary.insert(message_key(), vec![0xff, 0xfe]);
    assert_eq!(proof_message(&psbt), Some(Err(BadProofMessage::Malformed)));
    psbt.proprietary.clear();
    assert_eq!(proof_message(&psbt), None);
}

fn output(script: ScriptBuf, sat: u64) -> OutputReview {
    OutputReview {
        index: 0,
        amount: Amount::from_sat(sat),
        address: None,
        destination: Destination::External { allowlisted: false },
        owner: None,
        false_claim: false,
        script,
    }
}

#[test]
fn a_proof_pays_everything_to_the_unspendable_script_only() {
    let burn = || output(unspendable_script(), 1_000);
    assert!(check_outputs(&[burn()], Some(1_000)).passed);
    // A fee, or more out than in.
    assert!(!check_outputs(&[burn()], Some(1_001)).passed);
    assert!(!check_outputs(&[burn()], Some(999)).passed);
    assert!(!check_outputs(&[burn()], None).passed);
    // An output someone could spend, alone or beside the burn.
    let spendable = output(ScriptBuf::new_op_return([1u8; 4]), 1_000);
    let check = check_outputs(std::slice::from_ref(&spendable), Some(1_000));
    assert!(!check.passed);
    assert_eq!(check.rule, RuleId::Destinations);
    let mut second = output(
        ScriptBuf::from_hex("0014751e76e8199196d454941c45d1b3a323f1433bd6").unwrap(),
        1,
    );
    second.index = 1;
    assert!(!check_outputs(&[burn(), second], Some(1_001)).passed);
    assert!(!check_outputs(&[], Some(0)).passed);
}

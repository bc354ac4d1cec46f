//! The strict parser and the write-back, on hand-made maps.

use super::checks::*;
use super::*;
use bitcoin::consensus::encode::serialize;
use bitcoin::{absolute, transaction, Amount, ScriptBuf, TxIn, TxOut};

fn pair(key: &[u8], value: &[u8]) -> Pair {
    Pair {
        key: key.to_vec(),
        value: value.to_vec(),
    }
}

pub(in crate::psbt) fn one_in_one_out() -> RawPsbt {
    let tx = Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn::default()],
        output: vec![TxOut {
            value: Amount::from_sat(1000),
            script_pubkey: ScriptBuf::new(),
        }],
    };
    RawPsbt {
        version: 0,
        global: RawMap(vec![pair(&[0], &serialize(&tx))]),
        inputs: vec![RawMap::default()],
        outputs: vec![RawMap::default()],
    }
}

#[test]
fn round_trips_and_refuses_trailing_bytes() {
    let bytes = one_in_one_out().serialize();
    assert_eq!(RawPsbt::parse(&bytes).unwrap(), one_in_one_out());
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        RawPsbt::parse(&longer),
        Err(PsbtError::TrailingBytes(1))
    ));
    assert!(matches!(
        RawPsbt::parse(&bytes[..bytes.len() - 1]),
        Err(PsbtError::Truncated(_))
    ));
}

#[test]
fn refuses_duplicate_keys() {
    let mut raw = one_in_one_out();
    raw.inputs[0].0.push(pair(&[0xfc, 1, b'x', 0], b"a"));
    raw.inputs[0].0.push(pair(&[0xfc, 1, b'x', 0], b"b"));
    assert!(matches!(
        RawPsbt::parse(&raw.serialize()),
        Err(PsbtError::DuplicateKey { .. })
    ));
}

#[test]
fn refuses_missing_and_extra_maps() {
    let mut raw = one_in_one_out();
    raw.outputs.clear();
    assert!(matches!(
        RawPsbt::parse(&raw.serialize()),
        Err(PsbtError::Truncated(_))
    ));
    let mut raw = one_in_one_out();
    raw.outputs.push(RawMap::default());
    assert!(matches!(
        RawPsbt::parse(&raw.serialize()),
        Err(PsbtError::TrailingBytes(1))
    ));
}

#[test]
fn refuses_oversize_and_non_minimal_sizes() {
    let mut bytes = MAGIC.to_vec();
    bytes.extend([0xfe, 0xff, 0xff, 0xff, 0x00]);
    assert!(matches!(
        RawPsbt::parse(&bytes),
        Err(PsbtError::Oversize { .. })
    ));
    let mut bytes = MAGIC.to_vec();
    bytes.extend([0xfd, 0x01, 0x00]);
    assert!(matches!(
        RawPsbt::parse(&bytes),
        Err(PsbtError::Malformed(_))
    ));
}

#[test]
fn only_named_signatures_may_change() {
    let sig_key = {
        let mut k = vec![IN_PARTIAL_SIG];
        k.extend([2; 33]);
        k
    };
    let mut before = one_in_one_out();
    before.inputs[0].0.push(pair(&sig_key, b"bogus"));
    before.inputs[0].0.push(pair(&[0xfc, 1, b'x', 0], b"kept"));
    let mut after = before.clone();
    after.inputs[0].0[0].value = b"valid".to_vec();
    assert!(matches!(
        before.with_additions(&before, &after),
        Err(PsbtError::WouldChange(_))
    ));
    let written = before
        .with_changes(&before, &after, &[(0, sig_key.clone())])
        .unwrap();
    assert_eq!(written, after);
    // A named field that is not a signature, or another input: refused.
    let mut other = before.clone();
    other.inputs[0].0[1].value = b"changed".to_vec();
    for named in [(0, vec![0xfc, 1, b'x', 0]), (1, sig_key.clone())] {
        assert!(matches!(
            before.with_changes(&before, &other, &[named]),
            Err(PsbtError::WouldChange(_))
        ));
    }
    // Naming a signature does not allow changing anything else.
    let mut both = after.clone();
    both.inputs[0].0[1].value = b"changed".to_vec();
    assert!(matches!(
        before.with_changes(&before, &both, &[(0, sig_key)]),
        Err(PsbtError::WouldChange(_))
    ));
}

#[test]
fn refuses_v2_fields_in_v0() {
    let mut raw = one_in_one_out();
    raw.outputs[0]
        .0
        .push(pair(&[OUT_AMOUNT], &5u64.to_le_bytes()));
    assert!(matches!(
        RawPsbt::parse(&raw.serialize()),
        Err(PsbtError::Malformed(_))
    ));
}

#[test]
fn reads_an_unsigned_transaction_without_inputs() {
    // Its input count, 0, is not the segwit marker: BIP-174 allows a PSBT
    // whose creator has not added inputs yet.
    let tx = Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![],
        output: vec![TxOut {
            value: Amount::from_sat(1000),
            script_pubkey: ScriptBuf::new(),
        }],
    };
    // Written without witnesses, as BIP-174 has it (rust-bitcoin would mark
    // a transaction without inputs as segwit).
    let legacy = [
        serialize(&tx.version),
        vec![0],
        serialize(&tx.output),
        serialize(&tx.lock_time),
    ]
    .concat();
    let raw = RawPsbt {
        version: 0,
        global: RawMap(vec![pair(&[0], &legacy)]),
        inputs: vec![],
        outputs: vec![RawMap::default()],
    };
    assert_eq!(RawPsbt::parse(&raw.serialize()).unwrap(), raw);
    let mut longer = raw.clone();
    longer.global.0[0].value.push(0);
    assert!(matches!(
        RawPsbt::parse(&longer.serialize()),
        Err(PsbtError::Malformed(_))
    ));
}

#[test]
fn checks_musig2_fields_as_bip_373_sets_them() {
    let secp = bitcoin::secp256k1::Secp256k1::new();
    let key = |n: u8| {
        let sk = bitcoin::secp256k1::SecretKey::from_slice(&[n; 32]).unwrap();
        sk.public_key(&secp).serialize().to_vec()
    };
    let (aggregate, alice, bob) = (key(1), key(2), key(3));
    let with_input = |p: Pair| {
        let mut raw = one_in_one_out();
        raw.inputs[0].0.push(p);
        RawPsbt::parse(&raw.serialize())
    };
    let participants = [alice.clone(), bob.clone()].concat();
    let session_key = [vec![IN_MUSIG2_PUB_NONCE], alice.clone(), aggregate.clone()].concat();
    let good = [
        pair(
            &[&[IN_MUSIG2_PARTICIPANT_PUBKEYS], &aggregate[..]].concat(),
            &participants,
        ),
        pair(&session_key, &[7; 66]),
        pair(&[&session_key[..], &[9; 32]].concat(), &[7; 66]),
        pair(
            &[&[IN_MUSIG2_PARTIAL_SIG], &session_key[1..]].concat(),
            &[5; 32],
        ),
    ];
    for p in good {
        with_input(p.clone()).unwrap_or_else(|e| panic!("{p:?}: {e}"));
    }
    let mut not_a_point = aggregate.clone();
    not_a_point[0] = 0x04;
    let bad = [
        // The aggregate key missing, or not a point.
        pair(&[IN_MUSIG2_PARTICIPANT_PUBKEYS], &participants),
        pair(
            &[&[IN_MUSIG2_PARTICIPANT_PUBKEYS], &not_a_point[..]].concat(),
            &participants,
        ),
        // Participants that are not a list of keys.
        pair(
            &[&[IN_MUSIG2_PARTICIPANT_PUBKEYS], &aggregate[..]].concat(),
            &participants[1..],
        ),
        pair(
            &[&[IN_MUSIG2_PARTICIPANT_PUBKEYS], &aggregate[..]].concat(),
            &[&alice[..], &not_a_point[..]].concat(),
        ),
        // A nonce or partial signature of the wrong size, or under a bad key.
        pair(&session_key, &[7; 65]),
        pair(&session_key[..34], &[7; 66]),
        pair(&[&session_key[..34], &not_a_point[..]].concat(), &[7; 66]),
        pair(
            &[&[IN_MUSIG2_PARTIAL_SIG], &session_key[1..]].concat(),
            &[5; 33],
        ),
    ];
    for p in bad {
        assert!(
            matches!(with_input(p.clone()), Err(PsbtError::Malformed(_))),
            "{p:?}"
        );
    }
    let mut raw = one_in_one_out();
    raw.outputs[0]
        .0
        .push(pair(&[OUT_MUSIG2_PARTICIPANT_PUBKEYS], &participants));
    assert!(matches!(
        RawPsbt::parse(&raw.serialize()),
        Err(PsbtError::Malformed(_))
    ));
}

//! Department approvals carried in a PSBT's proprietary fields (prefix
//! `custodia`, subtype 0x01: key data = approver id, value = movement code ‖
//! BIP-340 signature). Any key data and value decode to an approval or a
//! reason; an approval that decodes is exactly the bytes it came from; and
//! checking fields against the example policy never panics and never counts
//! one the policy does not allow.
//!
//! Input: up to four fields, each a length byte for the key data, the key
//! data, a length byte for the value, the value.
#![no_main]

use bitcoin::psbt::raw::ProprietaryKey;
use bitcoin::{absolute, transaction, Amount, OutPoint, Psbt, ScriptBuf, Transaction, TxIn, TxOut};
use custodia::psbt::approvals::Verdict;
use custodia::psbt::fields::{PREFIX, SUBTYPE_APPROVAL};
use custodia::psbt::{approval_status, read_approvals, Movement};
use libfuzzer_sys::fuzz_target;

#[path = "../common/mod.rs"]
mod common;
use common::example_policy;

fn empty_psbt() -> Psbt {
    let tx = Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            ..TxIn::default()
        }],
        output: vec![TxOut {
            value: Amount::from_sat(50_000),
            script_pubkey: ScriptBuf::new(),
        }],
    };
    Psbt::from_unsigned_tx(tx).expect("unsigned transaction")
}

fn take<'a>(data: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (&len, rest) = data.split_first()?;
    let len = usize::from(len).min(rest.len());
    let (field, rest) = rest.split_at(len);
    *data = rest;
    Some(field)
}

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    let mut psbt = empty_psbt();
    for _ in 0..4 {
        let (Some(key), Some(value)) = (take(&mut rest), take(&mut rest)) else {
            break;
        };
        let key = ProprietaryKey {
            prefix: PREFIX.to_vec(),
            subtype: SUBTYPE_APPROVAL,
            key: key.to_vec(),
        };
        psbt.proprietary.insert(key, value.to_vec());
    }
    let fields: Vec<_> = psbt
        .proprietary
        .iter()
        .filter(|(k, _)| k.subtype == SUBTYPE_APPROVAL)
        .map(|(k, v)| (k.key.clone(), v.clone()))
        .collect();
    let read = read_approvals(&psbt);
    assert_eq!(read.len(), fields.len());
    for (approval, (key, value)) in read.iter().zip(&fields) {
        let Ok(approval) = approval else { continue };
        assert_eq!(approval.approver.as_str().as_bytes(), key.as_slice());
        let mut encoded = vec![approval.movement.code()];
        encoded.extend(approval.signature.serialize());
        assert_eq!(&encoded, value, "an approval decoded from other bytes");
    }
    for movement in Movement::ALL {
        let status = approval_status(example_policy(), &psbt, movement);
        assert_eq!(status.checks.len(), fields.len());
        for check in &status.checks {
            if check.verdict == Verdict::Valid {
                let id = check
                    .approver
                    .parse()
                    .expect("a valid approval names an approver");
                assert!(example_policy().approver(&id).is_some());
            }
        }
        assert!(status.valid_approvers.len() <= status.checks.len());
        let _ = serde_json::to_string(&status);
    }
});

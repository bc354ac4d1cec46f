//! Every kind written and read back; entries of earlier releases read.

use super::*;
use bitcoin::hashes::Hash;

fn txid() -> Txid {
    Txid::from_byte_array([7; 32])
}

fn policy_id() -> PolicyId {
    PolicyId::from_bytes([9; 32])
}

#[test]
fn kinds_are_written_as_named_and_read_back() {
    let events = [
        Event::Init(SeedCreated {
            fingerprint: "73e30a04".parse().unwrap(),
            network: "regtest".into(),
            words: 24,
        }),
        Event::Abandon(Abandoned {
            policy_id: policy_id(),
            txid: txid(),
            released: 2,
        }),
        Event::Broadcast(Broadcast {
            policy_id: policy_id(),
            txid: txid(),
            movement: Some(Movement::ColdToHot),
            amount: Some(Amount::from_sat(5)),
            fee: None,
            proposed: true,
        }),
    ];
    for event in events {
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(value["kind"], event.kind());
        assert!(Event::KINDS.contains(&event.kind()));
        assert_eq!(serde_json::from_value::<Event>(value).unwrap(), event);
    }
}

#[test]
fn an_older_sign_entry_without_the_newer_fields_reads() {
    let old = serde_json::json!({
        "kind": "sign",
        "policy_id": policy_id().to_string(),
        "vault": "exchange-main",
        "txid": txid().to_string(),
        "movement": "hot-payout",
        "amount_sat": 1000,
        "fee_sat": 10,
    });
    let Event::Sign(s) = serde_json::from_value(old.clone()).unwrap() else {
        panic!("not a sign entry")
    };
    assert_eq!(s.amount, Amount::from_sat(1000));
    assert_eq!((s.fee, s.lock_time), (Some(SignedAmount::from_sat(10)), 0));
    assert_eq!(s.signer, None);
    // A fee written as null (an unproven input) reads as none.
    let mut unknown_fee = old;
    unknown_fee["fee_sat"] = serde_json::Value::Null;
    let Event::Sign(s) = serde_json::from_value(unknown_fee).unwrap() else {
        panic!("not a sign entry")
    };
    assert_eq!(s.fee, None);
    assert!(s.replaced_signatures.is_empty());
}

//! The table against miniscript's own derivation, and what is refused.

use super::*;
use crate::policy::example;

#[test]
fn every_record_is_miniscripts_own_derivation() {
    let secp = Secp256k1::verification_only();
    for name in ["regtest-exchange", "regtest-taproot", "regtest-recovery"] {
        let policy = example(name);
        let table = AddressKeys::derive(&policy);
        let max = policy.rules().addresses().max_index();
        for (tier, chain) in SECTIONS {
            for index in [0, 1, 17, max] {
                let slow = policy
                    .descriptor(tier)
                    .at(chain, index)
                    .derived_descriptor(&secp)
                    .unwrap();
                let (descriptor, script) = table.at(tier, chain, index).unwrap();
                assert_eq!(descriptor, slow, "{name} {tier} {index}");
                assert_eq!(script, slow.script_pubkey(), "{name} {tier} {index}");
            }
            assert!(table.at(tier, chain, max + 1).is_none());
        }
        let read = AddressKeys::from_bytes(&policy, table.as_bytes().to_vec()).unwrap();
        assert_eq!(
            read.at(Tier::Hot, Chain::Change, 5),
            table.at(Tier::Hot, Chain::Change, 5)
        );
    }
}

#[test]
fn a_table_of_another_policy_or_shape_is_refused() {
    let exchange = example("regtest-exchange");
    let taproot = example("regtest-taproot");
    let table = AddressKeys::derive(&exchange);
    let bytes = table.as_bytes().to_vec();
    assert_eq!(
        AddressKeys::from_bytes(&taproot, bytes.clone()).unwrap_err(),
        AddressKeysError::OtherPolicy(exchange.id())
    );
    assert_eq!(
        AddressKeys::from_bytes(&exchange, bytes[..bytes.len() - 1].to_vec()).unwrap_err(),
        AddressKeysError::Shape
    );
    let mut other = bytes.clone();
    other[0] ^= 1;
    assert_eq!(
        AddressKeys::from_bytes(&exchange, other).unwrap_err(),
        AddressKeysError::Format
    );
    assert_eq!(
        AddressKeys::from_bytes(&exchange, MAGIC.to_vec()).unwrap_err(),
        AddressKeysError::Format
    );
}

#[test]
fn a_changed_record_is_not_used() {
    let policy = example("regtest-exchange");
    let table = AddressKeys::derive(&policy);
    let section = &table.sections[2];
    let from = section.start + 9 * section.record_len();
    // A flipped bit in a key, in the script, in the checksum.
    for at in [
        from + 3,
        from + section.record_len() - 10,
        from + section.record_len() - 1,
    ] {
        let mut bytes = table.as_bytes().to_vec();
        bytes[at] ^= 0x10;
        let changed = AddressKeys::from_bytes(&policy, bytes).unwrap();
        assert!(changed.at(Tier::Hot, Chain::Receive, 9).is_none());
        assert!(changed.at(Tier::Hot, Chain::Receive, 8).is_some());
    }
    // A record copied to another index fails its checksum there.
    let mut bytes = table.as_bytes().to_vec();
    let len = section.record_len();
    let copy = bytes[from..from + len].to_vec();
    bytes[from + len..from + 2 * len].copy_from_slice(&copy);
    let moved = AddressKeys::from_bytes(&policy, bytes).unwrap();
    assert!(moved.at(Tier::Hot, Chain::Receive, 10).is_none());
}

//! Property tests of compact PSBTs: for any PSBT the vault could see —
//! inputs and outputs of either wallet at any index (in range or not),
//! outside payments, derivations dropped, fields of other programs —
//! re-filling the stripped PSBT gives it back byte for byte; and damaged
//! compact PSBTs are refused or re-filled, never a panic.

mod signer_fixtures;

use bitcoin::psbt::raw::{Key, ProprietaryKey};
use bitcoin::Psbt;
use custodia::policy::Tier;
use custodia::psbt::compact::{refill, refill_bytes, strip, CompactPsbt};
use proptest::prelude::*;
use signer_fixtures::*;

const POLICIES: [&str; 3] = ["regtest-exchange", "regtest-taproot", "regtest-recovery"];

/// One input or output: its wallet, chain, index (up to a little beyond
/// `max_index`), whether it pays outside the vault (outputs only), and what
/// to change after the coordinator filled it.
#[derive(Debug, Clone)]
struct Item {
    cold: bool,
    chain: u32,
    index: u32,
    outside: bool,
    change: u8,
}

fn item() -> impl Strategy<Value = Item> {
    (any::<bool>(), 0u32..2, 0u32..1_010, any::<bool>(), 0u8..6).prop_map(
        |(cold, chain, index, outside, change)| Item {
            cold,
            chain,
            index,
            outside,
            change,
        },
    )
}

fn tier(i: &Item) -> Tier {
    if i.cold {
        Tier::Cold
    } else {
        Tier::Hot
    }
}

fn other_field(n: usize) -> ProprietaryKey {
    ProprietaryKey {
        prefix: b"other-wallet".to_vec(),
        subtype: 7,
        key: vec![n as u8],
    }
}

/// The PSBT the coordinator would make, then changed as each item says.
fn build(policy_name: &str, inputs: &[Item], outputs: &[Item], approvals: bool) -> Psbt {
    let policy = policy(policy_name);
    let ins: Vec<_> = inputs
        .iter()
        .map(|i| (at(tier(i), i.chain, i.index), sat(100_000)))
        .collect();
    let outs: Vec<_> = outputs
        .iter()
        .enumerate()
        .map(|(n, o)| {
            let to = if o.outside {
                To::Address(payee(n as u32 % 3 + 1))
            } else {
                To::Vault(at(tier(o), o.chain, o.index))
            };
            (to, sat(10_000))
        })
        .collect();
    let mut psbt = spend(&policy, &ins, &outs);
    for (n, (i, input)) in inputs.iter().zip(&mut psbt.inputs).enumerate() {
        match i.change {
            // A derivation missing: the policy writes more than is there.
            1 => {
                input.bip32_derivation.pop_first();
                input.tap_key_origins.pop_last();
            }
            2 => {
                input.proprietary.insert(other_field(n), vec![n as u8; 3]);
            }
            3 => {
                input.unknown.insert(
                    Key {
                        type_value: 0xf0,
                        key: vec![n as u8],
                    },
                    vec![1, 2, 3],
                );
            }
            // Only the full previous transaction (P2WSH), or nothing at all
            // to check a hint against (taproot).
            4 => input.witness_utxo = None,
            _ => {}
        }
    }
    for (n, (o, output)) in outputs.iter().zip(&mut psbt.outputs).enumerate() {
        match o.change {
            1 => {
                output.bip32_derivation.pop_last();
                output.tap_key_origins.pop_first();
            }
            2 => {
                output.proprietary.insert(other_field(n), vec![9]);
            }
            _ => {}
        }
    }
    if approvals {
        // An approval-shaped field: approvals are kept as they are.
        let key = ProprietaryKey {
            prefix: b"custodia".to_vec(),
            subtype: 0x01,
            key: b"sato".to_vec(),
        };
        psbt.proprietary.insert(key, vec![1; 65]);
    }
    psbt
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// refill(strip(p)) == p, through the serialized bytes.
    #[test]
    fn refill_of_strip_is_the_original(
        policy_n in 0usize..3,
        inputs in proptest::collection::vec(item(), 1..6),
        outputs in proptest::collection::vec(item(), 1..4),
        approvals in any::<bool>(),
    ) {
        let name = POLICIES[policy_n];
        let psbt = build(name, &inputs, &outputs, approvals);
        let policy = policy(name);
        let compact = strip(&psbt, &policy).unwrap();
        prop_assert!(compact.serialize().len() <= psbt.serialize().len() + 40 + 6 * 10);
        let refilled = refill(&compact, &policy).unwrap();
        prop_assert_eq!(refilled.serialize(), psbt.serialize());
        let from_bytes = refill_bytes(&compact.serialize(), &policy).unwrap();
        prop_assert_eq!(from_bytes, psbt);
    }

    /// Damaged compact PSBTs are refused or re-filled, never a panic; what
    /// re-fills is a PSBT whose hints all re-derived.
    #[test]
    fn damaged_compact_psbts_never_panic(
        flips in proptest::collection::vec((0usize..10_000, any::<u8>()), 1..4),
        cut in proptest::option::of(0usize..10_000),
    ) {
        let policy = policy("regtest-taproot");
        let compact = strip(&cold_to_hot(&policy, 2 * BTC), &policy).unwrap();
        let mut bytes = compact.serialize();
        for (pos, byte) in flips {
            let len = bytes.len();
            bytes[pos % len] ^= byte.max(1);
        }
        if let Some(c) = cut {
            bytes.truncate(c % bytes.len());
        }
        if let Ok(c) = CompactPsbt::from_bytes(&bytes) {
            let _ = refill(&c, &policy);
        }
    }
}

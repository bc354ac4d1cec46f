//! Any key and value in a custodia approval field (proprietary prefix
//! `custodia`, subtype 0x01) decode to an approval or a typed refusal, and
//! judging approvals against the example policy for every movement never
//! panics.
#![no_main]

use std::sync::OnceLock;

use bitcoin::psbt::raw::ProprietaryKey;
use bitcoin::{absolute, transaction, Psbt, Transaction};
use custodia::policy::VaultPolicy;
use custodia::psbt::{approval_status, read_approvals, Movement};
use libfuzzer_sys::fuzz_target;

fn policy() -> &'static VaultPolicy {
    static POLICY: OnceLock<VaultPolicy> = OnceLock::new();
    POLICY.get_or_init(|| {
        VaultPolicy::from_toml(include_str!("../../policies/regtest-exchange.toml"))
            .expect("example policy")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = usize::from(split).min(rest.len());
    let (key, value) = rest.split_at(at);
    let tx = Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![],
        output: vec![],
    };
    let mut psbt = Psbt::from_unsigned_tx(tx).expect("an empty transaction");
    psbt.proprietary.insert(
        ProprietaryKey {
            prefix: b"custodia".to_vec(),
            subtype: 0x01,
            key: key.to_vec(),
        },
        value.to_vec(),
    );
    assert_eq!(read_approvals(&psbt).len(), 1);
    for movement in Movement::ALL {
        let _ = approval_status(policy(), &psbt, movement);
    }
});

//! The signer's address key table as read from `policies/<id>.keys`: the
//! table of a small vault (the example policy with `max_index` 20), changed
//! by the fuzzer's edits (byte flips, a cut), or replaced by the fuzzer's
//! bytes, is refused with a typed reason or read; a record read from it is
//! either refused (`None`) or, when the edits left it alone, the one
//! derived from the policy. Never a panic.
#![no_main]

use std::sync::OnceLock;

use custodia::policy::{AddressKeys, Chain, Tier, VaultPolicy};
use libfuzzer_sys::fuzz_target;

/// The example policy with a short address range, and its table.
fn small() -> &'static (VaultPolicy, AddressKeys) {
    static SMALL: OnceLock<(VaultPolicy, AddressKeys)> = OnceLock::new();
    SMALL.get_or_init(|| {
        let text = include_str!("../../policies/regtest-exchange.toml")
            .replacen("max_index = 1000", "max_index = 20", 1);
        let policy = VaultPolicy::from_toml(&text).expect("example policy");
        let table = AddressKeys::derive(&policy);
        (policy, table)
    })
}

const SECTIONS: [(Tier, Chain); 4] = [
    (Tier::Cold, Chain::Receive),
    (Tier::Cold, Chain::Change),
    (Tier::Hot, Chain::Receive),
    (Tier::Hot, Chain::Change),
];

fuzz_target!(|data: &[u8]| {
    let (policy, table) = small();
    let Some((&mode, edits)) = data.split_first() else {
        return;
    };
    let original = table.as_bytes();
    let bytes = match mode % 3 {
        // Any file at all.
        0 => edits.to_vec(),
        // The table with bytes flipped: (position: 3 bytes, xor: 1 byte)...
        1 => {
            let mut bytes = original.to_vec();
            for edit in edits.chunks_exact(4) {
                let at = u32::from_le_bytes([edit[0], edit[1], edit[2], 0]) as usize;
                if let Some(b) = bytes.get_mut(at % original.len()) {
                    *b ^= edit[3].max(1);
                }
            }
            bytes
        }
        // The table cut short, or with the fuzzer's bytes after it.
        _ => {
            let cut = edits.len().min(original.len());
            let mut bytes = original[..original.len() - cut].to_vec();
            if mode & 0x80 != 0 {
                bytes = original.to_vec();
                bytes.extend_from_slice(edits);
            }
            bytes
        }
    };
    let unchanged = bytes == original;
    let Ok(read) = AddressKeys::from_bytes(policy, bytes) else {
        assert!(!unchanged, "the table as derived is refused");
        return;
    };
    for (tier, chain) in SECTIONS {
        for index in [0, 1, 7, 19, 20, 21, u32::MAX] {
            let got = read.at(tier, chain, index);
            if unchanged {
                assert_eq!(got, table.at(tier, chain, index));
            }
            if let Some((descriptor, script)) = &got {
                // A record that passes its checksum is whole.
                assert_eq!(script.len(), 34);
                let _ = descriptor.explicit_script();
            }
        }
    }
});

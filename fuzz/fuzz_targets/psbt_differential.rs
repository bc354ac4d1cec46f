//! custodia's strict PSBT reader against rust-bitcoin's
//! (`bitcoin::Psbt::deserialize`): custodia is the stricter of the two, so
//! whatever custodia accepts, rust-bitcoin accepts too, as the same PSBT.
//! (The other way round is expected: rust-bitcoin takes duplicate keys,
//! trailing bytes after the value of a field it skips, and more.)
//!
//! Documented differences, tolerated here and nowhere else:
//!
//! - BIP-370 (version 2): rust-bitcoin 0.32 reads version 0 only. custodia
//!   reads a v2 PSBT by converting its maps to v0 form; for those, the v0
//!   form is what rust-bitcoin must accept, and as the same PSBT custodia
//!   reviews.
//! - Base64 wrapped in whitespace: custodia drops line breaks and spaces
//!   (mail wraps base64); the comparison is made on the decoded bytes.
//! - Compact PSBTs (custodia's own stripped form for QR) are refused by
//!   custodia's reader until re-filled; nothing to compare.
#![no_main]

use bitcoin::Psbt;
use custodia::psbt::{PsbtDocument, PsbtVersion};
use libfuzzer_sys::fuzz_target;

#[path = "../common/mod.rs"]
mod common;
use common::{bytes_read, MAGIC};

fuzz_target!(|data: &[u8]| {
    compare(data);
    if !data.starts_with(MAGIC) {
        let mut binary = MAGIC.to_vec();
        binary.extend_from_slice(data);
        compare(&binary);
    }
});

fn compare(data: &[u8]) {
    let Ok(doc) = PsbtDocument::from_bytes(data) else {
        return;
    };
    let binary = bytes_read(&doc, data);
    match doc.version() {
        PsbtVersion::V0 => {
            let theirs = Psbt::deserialize(&binary).unwrap_or_else(|e| {
                panic!("custodia accepted a v0 PSBT that rust-bitcoin refuses: {e}")
            });
            assert_eq!(&theirs, doc.psbt(), "the two readers read different PSBTs");
        }
        PsbtVersion::V2 => {
            // rust-bitcoin cannot read v2; it must read custodia's v0 form.
            let v0 = doc.psbt().serialize();
            let theirs = Psbt::deserialize(&v0).expect("rust-bitcoin reads the v0 form");
            assert_eq!(&theirs, doc.psbt());
        }
    }
}

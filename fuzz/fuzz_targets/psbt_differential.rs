//! custodia's strict PSBT reader against rust-bitcoin's deserializer on the
//! same binary bytes: what custodia reads, rust-bitcoin reads too, to the
//! same PSBT. custodia is the stricter of the two by design (version 2
//! fields in a version 0 PSBT, trailing bytes, duplicate keys, compact
//! PSBTs are refused), so the other direction is not asserted. A version 2
//! PSBT is the one explained difference: rust-bitcoin 0.32 reads no
//! BIP-370 PSBT, custodia converts it to version 0 first.
#![no_main]

use bitcoin::Psbt;
use custodia::psbt::{PsbtDocument, PsbtVersion};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Binary only: custodia also reads base64 text, rust-bitcoin's
    // deserializer does not.
    if !data.starts_with(b"psbt\xff") {
        return;
    }
    let Ok(doc) = PsbtDocument::from_bytes(data) else {
        return;
    };
    if doc.version() == PsbtVersion::V2 {
        return;
    }
    let theirs = Psbt::deserialize(data).expect("custodia read a v0 PSBT rust-bitcoin refuses");
    assert_eq!(&theirs, doc.psbt());
});

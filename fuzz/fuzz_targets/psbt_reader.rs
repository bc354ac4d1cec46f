//! Any bytes given to the PSBT reader, as binary or as base64 text, v0 or v2,
//! are refused with an error or read; a PSBT that is read writes back,
//! unchanged, to exactly the bytes it was read from.
//!
//! The input is tried three ways so that the fuzzer reaches the map parser
//! without having to guess the magic or base64: as given, with the PSBT
//! magic put in front (binary), and that again as base64 text.
#![no_main]

use bitcoin::base64::engine::general_purpose::STANDARD;
use bitcoin::base64::Engine;
use custodia::psbt::{PsbtDocument, PsbtVersion};
use libfuzzer_sys::fuzz_target;

#[path = "../common/mod.rs"]
mod common;
use common::{bytes_read, MAGIC};

fuzz_target!(|data: &[u8]| {
    read(data);
    let mut binary = MAGIC.to_vec();
    binary.extend_from_slice(data);
    read(&binary);
    read(STANDARD.encode(&binary).as_bytes());
});

fn read(data: &[u8]) {
    let Ok(doc) = PsbtDocument::from_bytes(data) else {
        return;
    };
    // The strict reader refuses anything it could not write back byte for
    // byte (non-minimal sizes, duplicates, trailing bytes), so an unchanged
    // PSBT comes back as the binary it was.
    let binary = bytes_read(&doc, data);
    let back = doc
        .write_back(doc.psbt())
        .expect("an unchanged PSBT writes back");
    assert_eq!(back, binary, "writing back an unchanged PSBT changed it");
    let again = PsbtDocument::from_bytes(&back).expect("what was written reads");
    assert_eq!(again.psbt(), doc.psbt());
    assert_eq!(again.version(), doc.version());
    if doc.version() == PsbtVersion::V0 {
        let theirs = bitcoin::Psbt::deserialize(&binary).expect("rust-bitcoin reads a v0 PSBT");
        assert_eq!(&theirs, doc.psbt(), "a v0 PSBT is what rust-bitcoin reads");
    }
}

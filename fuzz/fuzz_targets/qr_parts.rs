//! QR part strings as a scanner hands them over, one per line, UR or BBQr,
//! in any order, with duplicates and strays: each part is taken or refused
//! with a reason, the progress never claims more than the whole, and an
//! assembly either finishes with a payload or says why not. The header
//! parsers and the CBOR unwrapping get every line and the raw bytes too.
#![no_main]

use custodia::transport::qr::bbqr::BbqrHeader;
use custodia::transport::qr::ur::{cbor_unwrap, UrHeader};
use custodia::transport::qr::Assembler;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cbor_unwrap(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut assembler = Assembler::new();
    // A scan of one animation is a few hundred parts; 64 keep each run short.
    for line in text.lines().take(64) {
        let _ = UrHeader::parse(line);
        let _ = BbqrHeader::parse(line);
        if let Ok(progress) = assembler.push(line) {
            assert!(
                progress.total > 0,
                "a part was taken but the whole is unknown"
            );
            assert!(progress.format.is_some());
            let _ = progress.to_string();
        }
    }
    let progress = assembler.progress();
    match assembler.finish() {
        Ok(payload) => {
            assert!(
                progress.complete(),
                "finished before all parts were in: {progress}"
            );
            let _ = payload.content.name();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});

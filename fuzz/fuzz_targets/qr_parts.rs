//! QR part strings as a scanner hands them over, one per line, UR or BBQr,
//! in any order, with duplicates and strays: each part is taken or refused
//! with a reason, the progress never claims more than the whole, a BBQr
//! set finishes only with every part in, and an assembly either finishes
//! with a payload or says why not. The header
//! parsers and the CBOR unwrapping get every line and the raw bytes too.
#![no_main]

use custodia::transport::qr::bbqr::BbqrHeader;
use custodia::transport::qr::ur::{cbor_unwrap, UrHeader};
use custodia::transport::qr::{Assembler, Format};
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
    assert!(progress.received <= progress.total, "{progress}");
    match assembler.finish() {
        Ok(payload) => {
            // Every BBQr part is in. A UR may finish with fewer fragments
            // resolved than its total: the count is the `ur` decoder's, which
            // only peels, and custodia's solver (`fountain`) recovers the
            // fragments the parts determine beyond it.
            if progress.format == Some(Format::Bbqr) {
                assert!(
                    progress.complete(),
                    "finished before all parts were in: {progress}"
                );
            }
            let _ = payload.content.name();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});

//! Any sequence of QR part texts (one per line; UR `ur:…` or BBQr `B$…`)
//! is assembled or refused with a typed error, never a panic, and an
//! assembled payload is what was sent.
#![no_main]

use custodia::transport::qr::Assembler;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut assembler = Assembler::new();
    for part in text.lines().take(64) {
        if assembler.push(part).is_err() {
            continue;
        }
        let _ = assembler.progress();
    }
    let _ = assembler.finish();
});

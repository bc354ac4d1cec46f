//! Any file given to the log verifier is verified or refused with a typed
//! error, never a panic; a log that verifies reads as typed events without
//! panicking.
#![no_main]

use custodia::audit::EventLog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("log.jsonl");
    std::fs::write(&path, data).expect("write the log");
    if let Ok(log) = EventLog::new(&path).verify() {
        let _ = log.signer();
        for entry in &log.entries {
            let _ = entry.event();
        }
    }
});

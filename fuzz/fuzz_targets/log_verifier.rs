//! The tamper-evident log verifier over any file contents: a log is refused
//! with the line that does not check out, or verified; a verified log
//! reports as the auditor reports it (head, length, whose log), each entry
//! reads as a typed event or says why not, and writing its entries out again
//! verifies to the same head.
#![no_main]

use std::path::Path;

use custodia::audit::{EventLog, LogVerification};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.jsonl");
    let log = EventLog::new(path);
    let verified = match log.verify_from(data) {
        Ok(verified) => verified,
        Err(e) => {
            let report = LogVerification::failed(path, &e);
            assert!(!report.valid);
            return;
        }
    };
    if let Ok(report) = LogVerification::of(path, &verified) {
        assert_eq!(report.entries, verified.entries.len());
        assert_eq!(report.head.as_deref(), Some(verified.head()));
    }
    for entry in &verified.entries {
        let _ = entry.event();
    }
    let _ = verified.kinds();
    let mut again = Vec::new();
    for entry in &verified.entries {
        again.extend(serde_json::to_vec(entry).expect("an entry serializes"));
        again.push(b'\n');
    }
    let reread = log
        .verify_from(again.as_slice())
        .expect("entries written out verify");
    assert_eq!(reread.head(), verified.head());
});

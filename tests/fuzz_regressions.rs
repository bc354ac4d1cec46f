//! Inputs on which a fuzz target (`fuzz/`) once failed, kept as ordinary
//! tests; the inputs are in `tests/data/fuzz-regressions/`, named after the
//! target and what they show.

use custodia::transport::qr::{Assembler, Content, Format};

fn input(name: &str) -> String {
    let path = format!(
        "{}/tests/data/fuzz-regressions/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).expect("the regression input")
}

/// `qr_parts`: URKit's 9-fragment message with parts renumbered, mangled
/// and one dropped. The `ur` decoder resolves 8 of 9 fragments; custodia's
/// solver recovers the ninth from the mixed parts, so the set assembles
/// while the progress (the decoder's count) still says 8/9. The target had
/// assumed a finished assembly always shows every part; for UR that count
/// is the decoder's, by design (`transport::qr::fountain`).
#[test]
fn qr_ur_parts_solved_beyond_the_decoders_count() {
    let text = input("qr_parts-ur-solved-beyond-resolved-count.txt");
    let mut assembler = Assembler::new();
    let mut refused = 0;
    for part in text.lines() {
        if assembler.push(part).is_err() {
            refused += 1;
        }
    }
    let progress = assembler.progress();
    assert_eq!(progress.format, Some(Format::Ur));
    assert_eq!((progress.received, progress.total), (8, 9));
    assert!(!progress.complete());
    assert!(refused > 0, "the mangled parts are refused");
    let payload = assembler.finish().expect("the solver completes the set");
    assert_eq!(payload.content, Content::Text);
    // The message URKit sent, as the untouched parts give it.
    let sent = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/qr/urkit-bytes-256-fragments30.txt"
    ))
    .unwrap();
    let mut original = Assembler::new();
    for part in sent.lines() {
        original.push(part).unwrap();
    }
    assert_eq!(payload.bytes, original.finish().unwrap().bytes);
}

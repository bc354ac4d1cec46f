//! Logs written in the format of the first releases (before events were
//! typed; the file in `tests/data/logs` holds the fields those releases
//! wrote: `sign` without `signer` or `lock_time`, `approve` without `vault`)
//! still verify, read as typed events, and still count against the daily
//! limits.

use std::path::Path;

use bitcoin::hashes::Hash;
use bitcoin::Amount;
use custodia::audit::{Event, EventLog, NamedLog};
use custodia::policy::Tier;
use custodia::psbt::DailySpending;

fn first_release_log() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/logs/signer-log-first-release.jsonl")
}

#[test]
fn a_first_release_signer_log_verifies_reads_and_counts() {
    let log = EventLog::new(first_release_log()).verify().unwrap();
    assert_eq!(log.entries.len(), 5);
    let kinds: Vec<&str> = log
        .entries
        .iter()
        .map(|e| e.event().unwrap().expect("a known kind").kind())
        .collect();
    assert_eq!(kinds, ["init", "register", "sign", "approve", "sign"]);

    let Some(Event::Sign(sign)) = log.entries[2].event().unwrap() else {
        panic!("entry 3 is a signature")
    };
    assert_eq!((sign.signer, sign.lock_time), (None, 0));

    let now = log.entries[4].unix_time + 60;
    let spent = DailySpending::from_signer_log(&log.entries, "exchange-main", now).unwrap();
    assert_eq!(spent.movements.len(), 2);
    let counted = Amount::from_sat(200_000_000 + 10_000 + 100_000_000 + 5_000);
    assert_eq!(spent.total(Tier::Cold, bitcoin::Txid::all_zeros()), counted);

    let named = NamedLog {
        path: first_release_log(),
        log,
    };
    assert_eq!(named.signer().unwrap(), Some("3d6b7b9a".parse().unwrap()));
}

#[test]
fn an_edited_first_release_log_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("log.jsonl");
    let text = std::fs::read_to_string(first_release_log())
        .unwrap()
        .replacen("\"amount_sat\":200000000", "\"amount_sat\":2000", 1);
    std::fs::write(&copy, text).unwrap();
    let err = EventLog::new(&copy).verify().unwrap_err();
    assert!(
        matches!(err, custodia::audit::LogError::Tampered { line: 3, .. }),
        "{err}"
    );
}

#[test]
fn every_stored_log_verifies_and_every_line_reads_typed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/logs");
    let mut kinds = std::collections::BTreeSet::new();
    for file in std::fs::read_dir(&dir).unwrap() {
        let path = file.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("jsonl") {
            continue;
        }
        let log = EventLog::new(&path)
            .verify()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!log.entries.is_empty(), "{}", path.display());
        for e in &log.entries {
            let event = e
                .event()
                .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
                .unwrap_or_else(|| {
                    panic!("{}: entry {} of an unknown kind", path.display(), e.seq)
                });
            kinds.insert(event.kind());
        }
    }
    // Between them the stored logs hold every kind the programs write.
    assert_eq!(kinds.len(), Event::KINDS.len(), "{kinds:?}");
}

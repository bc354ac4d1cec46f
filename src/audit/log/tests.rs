//! The hash chain: edits found and named, the lock, the clock, unknown kinds.

use super::*;
use serde_json::json;

#[test]
fn chain_detects_any_edit_and_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::new(dir.path().join("events.jsonl"));
    for i in 0..4 {
        log.lock()
            .unwrap()
            .append_value(json!({"kind": "test", "n": i}))
            .unwrap();
    }
    let verified = log.verify().unwrap();
    assert_eq!(verified.entries.len(), 4);
    assert_eq!(verified.head(), verified.entries[3].hash);

    let text = std::fs::read_to_string(log.path()).unwrap();
    for (n, _) in text.lines().enumerate() {
        let edited: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i == n {
                    l.replace("\"n\":", "\"n\":1")
                } else {
                    l.to_owned()
                }
            })
            .collect();
        std::fs::write(log.path(), edited.join("\n") + "\n").unwrap();
        match log.verify() {
            Err(LogError::Tampered { line, .. }) => assert_eq!(line, n as u64 + 1),
            other => panic!("edit of line {} not detected: {other:?}", n + 1),
        }
    }
    // A removed line is caught too.
    let without_second: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(log.path(), without_second.join("\n") + "\n").unwrap();
    assert!(matches!(
        log.verify(),
        Err(LogError::Tampered { line: 2, .. })
    ));
    // Two lines swapped: the first out of place is named.
    let lines: Vec<&str> = text.lines().collect();
    let swapped = [lines[0], lines[2], lines[1], lines[3]].join("\n") + "\n";
    std::fs::write(log.path(), swapped).unwrap();
    assert!(matches!(
        log.verify(),
        Err(LogError::Tampered { line: 2, .. })
    ));
    // A line cut short (a copy interrupted, a disk full): named too.
    let cut = format!(
        "{}\n{}",
        lines[..3].join("\n"),
        &lines[3][..lines[3].len() / 2]
    );
    std::fs::write(log.path(), cut).unwrap();
    assert!(matches!(
        log.verify(),
        Err(LogError::Tampered { line: 4, .. })
    ));
}

#[test]
fn a_clock_earlier_than_the_newest_entry_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::new(dir.path().join("events.jsonl"));
    log.lock()
        .unwrap()
        .append_value(json!({"kind": "test"}))
        .unwrap();
    // Stamp the newest entry an hour ahead, as a clock set back since would show.
    let mut entry = log.verify().unwrap().entries.remove(0);
    entry.unix_time = now_unix() + 3600;
    entry.hash = entry.compute_hash();
    let line = serde_json::to_string(&entry).unwrap() + "\n";
    std::fs::write(log.path(), &line).unwrap();
    assert!(matches!(
        log.lock().unwrap().append_value(json!({"kind": "test"})),
        Err(LogError::ClockBehind { .. })
    ));
    assert_eq!(std::fs::read_to_string(log.path()).unwrap(), line);
}

#[test]
fn a_locked_log_makes_others_wait() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::new(dir.path().join("events.jsonl"));
    let mut held = log.lock().unwrap();
    let other = {
        let log = log.clone();
        std::thread::spawn(move || {
            let mut second = log.lock().unwrap();
            // The second holder sees what the first appended.
            let seen = second.verified().entries.len();
            second.append_value(json!({"kind": "second"})).unwrap();
            seen
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(200));
    held.append_value(json!({"kind": "first"})).unwrap();
    drop(held);
    assert_eq!(other.join().unwrap(), 1);
    assert_eq!(log.verify().unwrap().kinds(), ["first", "second"]);
}

#[test]
fn events_need_a_kind() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::new(dir.path().join("events.jsonl"));
    assert!(matches!(
        log.lock().unwrap().append_value(json!({"n": 1})),
        Err(LogError::BadEvent)
    ));
    assert!(log.verify().unwrap().entries.is_empty());
}

#[test]
fn an_entry_of_an_unknown_kind_verifies_and_reads_as_none() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::new(dir.path().join("log.jsonl"));
    log.lock()
        .unwrap()
        .append_value(json!({"kind": "from-a-newer-release", "x": 1}))
        .unwrap();
    log.lock()
        .unwrap()
        .append_value(json!({"kind": "sign", "vault": "v"}))
        .unwrap();
    let entries = log.verify().unwrap().entries;
    assert!(entries[0].event().unwrap().is_none());
    // A known kind that does not read is an error naming the entry.
    assert!(matches!(
        entries[1].event(),
        Err(LogError::Unreadable { seq: 2, .. })
    ));
}

#[test]
fn contents_verify_as_the_file_does_and_errors_name_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::new(dir.path().join("events.jsonl"));
    for i in 0..3 {
        log.lock()
            .unwrap()
            .append_value(json!({"kind": "test", "n": i}))
            .unwrap();
    }
    let text = std::fs::read(log.path()).unwrap();
    let from_file = log.verify().unwrap();
    let from_contents = log.verify_from(text.as_slice()).unwrap();
    assert_eq!(from_contents.entries, from_file.entries);
    assert!(log.verify_from(&b""[..]).unwrap().entries.is_empty());
    let cut = &text[..text.len() / 2];
    match log.verify_from(cut) {
        Err(LogError::Tampered { path, .. }) => assert_eq!(path, log.path()),
        other => panic!("a cut log verified: {other:?}"),
    }
}

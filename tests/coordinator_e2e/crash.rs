//! The coordinator killed (SIGKILL) at every write, sync and rename in
//! turn (`custodia::crash_point`, `CUSTODIA_CRASH_AT=N`, debug builds) while
//! it syncs, proposes, combines, finalizes and broadcasts. After every kill
//! its log verifies, its wallet database opens and syncs again, an output
//! file is absent or whole, and the same command run again completes (or,
//! when the kill came after its output was in place, refuses to replace it).

use std::os::unix::process::ExitStatusExt;

use custodia::audit::EventLog;

use super::support::*;

/// How a command's output is handled between rounds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Output {
    /// The command writes no file.
    None,
    /// A file that, once there, the same command refuses to replace.
    File,
    /// A proposal: its coins stay reserved until `abandon FILE`, which
    /// each round runs so that the next finds the coins free again.
    Proposal,
}

/// Runs `args(n)` killed at crash point 1, 2, … until one run passes them
/// all; returns how many points there were. `file(n)` is the file the
/// command writes in round `n`.
fn at_every_crash_point(
    c: &Coord,
    args: impl Fn(u32) -> Vec<String>,
    file: impl Fn(u32) -> std::path::PathBuf,
    kind: Output,
) -> u32 {
    let log = EventLog::new(c.data_dir().join("events.jsonl"));
    let abandon = |path: &std::path::Path| {
        c.json(&["abandon", path.to_str().unwrap()]);
        std::fs::remove_file(path).unwrap();
    };
    for n in 1..200u32 {
        let run = c
            .cmd()
            .args(args(n))
            .env("CUSTODIA_CRASH_AT", n.to_string())
            .output()
            .unwrap();
        if run.status.success() {
            return n - 1;
        }
        assert_eq!(run.status.signal(), Some(9), "point {n}: {run:?}");
        log.verify()
            .unwrap_or_else(|e| panic!("point {n}: the log no longer verifies: {e}"));
        // The wallet database opens and catches up.
        c.json(&["sync"]);
        let out = file(n);
        let written = kind != Output::None && out.exists();
        if written {
            whole(&out, n);
        }
        match (kind, written) {
            (Output::Proposal, true) => abandon(&out),
            (Output::File, true) => {
                let again = c.cmd().args(args(n)).output().unwrap();
                assert_eq!(again.status.code(), Some(2), "point {n}: {again:?}");
                assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
                continue;
            }
            _ => {}
        }
        // The same command, run again, completes.
        let again = c.cmd().args(args(n)).output().unwrap();
        assert!(again.status.success(), "point {n}: rerun failed: {again:?}");
        if kind == Output::Proposal {
            abandon(&out);
        }
        log.verify().unwrap();
    }
    panic!("the command never completed");
}

/// A PSBT or transaction file the coordinator wrote is whole.
fn whole(file: &std::path::Path, n: u32) {
    let text = std::fs::read_to_string(file).unwrap();
    let text = text.trim();
    let parsed = match file.extension().and_then(|e| e.to_str()) {
        Some("hex") => bitcoin::consensus::encode::deserialize_hex::<bitcoin::Transaction>(text)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        _ => text
            .parse::<bitcoin::Psbt>()
            .map(|_| ())
            .map_err(|e| e.to_string()),
    };
    parsed.unwrap_or_else(|e| panic!("point {n}: {} is not whole: {e}", file.display()));
}

#[test]
fn a_kill_at_any_write_loses_nothing() {
    let node = common::Node::start();
    let policy = VaultPolicy::load(Path::new(POLICY)).unwrap();
    let c = init_and_fund(&node, 1);
    let hot = c.json(&["address", "--tier", "hot"]);
    node.mine_to_descriptor(1, hot["descriptor"].as_str().unwrap());
    node.mine_elsewhere(100);

    // Sync over new blocks.
    node.mine_elsewhere(5);
    let nothing = |_| c.path("nothing");
    let points = at_every_crash_point(&c, |_| vec!["sync".into()], nothing, Output::None);
    assert!(points >= 1, "sync passed {points} crash points");

    // Propose: each round writes its own file.
    let proposal = |n: u32| c.path(&format!("rebalance-{n}.psbt"));
    let points = at_every_crash_point(
        &c,
        |n| {
            let out = proposal(n).to_str().unwrap().to_owned();
            ["propose", "rebalance", "--fee-rate", "2", "-o", &out]
                .map(String::from)
                .to_vec()
        },
        proposal,
        Output::Proposal,
    );
    assert!(points >= 3, "propose passed {points} crash points");
    let last = proposal(points + 1);

    // Combine, finalize and broadcast the last proposal.
    let mut signed = Vec::new();
    for key in ["hot-1", "hot-3"] {
        let out = c.path(&format!("rebalance-{key}.psbt"));
        sign_with_core(&node, &policy, Tier::Hot, key, &last, &out);
        signed.push(out.to_str().unwrap().to_owned());
    }
    let combined = |n: u32| c.path(&format!("combined-{n}.psbt"));
    at_every_crash_point(
        &c,
        |n| {
            let mut args = vec!["combine".to_owned()];
            args.extend(signed.iter().cloned());
            args.extend(["-o".to_owned(), combined(n).to_str().unwrap().to_owned()]);
            args
        },
        combined,
        Output::File,
    );
    let all = c.path("combined-all.psbt");
    let mut args = vec!["combine"];
    args.extend(signed.iter().map(String::as_str));
    args.extend(["-o", all.to_str().unwrap()]);
    c.json(&args);
    let hex = |n: u32| c.path(&format!("tx-{n}.hex"));
    at_every_crash_point(
        &c,
        |n| {
            [
                "finalize",
                all.to_str().unwrap(),
                "-o",
                hex(n).to_str().unwrap(),
            ]
            .map(String::from)
            .to_vec()
        },
        hex,
        Output::File,
    );
    let tx = c.path("tx.hex");
    c.json(&[
        "finalize",
        all.to_str().unwrap(),
        "-o",
        tx.to_str().unwrap(),
    ]);
    // Broadcasting again what is in the mempool already is not an error.
    at_every_crash_point(
        &c,
        |_| {
            ["broadcast", tx.to_str().unwrap()]
                .map(String::from)
                .to_vec()
        },
        nothing,
        Output::None,
    );
    node.mine_elsewhere(1);
    let b = c.balance();
    assert_eq!(b["ratio_ok"], true, "{b}");
    // Every entry of the log still verifies, from a fresh read.
    let entries = EventLog::new(c.data_dir().join("events.jsonl"))
        .verify()
        .unwrap()
        .entries;
    assert!(entries.iter().any(|e| e.kind() == "broadcast"));
}

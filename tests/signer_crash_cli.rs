//! The signer killed (SIGKILL) at every write, sync and rename in turn —
//! the crash points of `custodia::crash_point`, armed in debug builds by
//! `CUSTODIA_CRASH_AT=N` — while it signs (to a file and to QR frames),
//! approves and registers. After every kill: the output is absent or whole,
//! never there without its log entry; the log verifies; no file appears
//! under any other name but a hidden `.custodia-*` temporary; and the same
//! command, run again, completes.

mod signer_fixtures;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;

use custodia::audit::EventLog;
use custodia::psbt::read::PsbtDocument;
use signer_fixtures::*;

/// Runs `args` killed at crash point 1, 2, … until a run passes every point;
/// `check(n, out_dir)` runs after each kill and after each completed rerun.
fn at_every_crash_point(
    cli: &SignerCli,
    args: impl Fn(&Path) -> Vec<std::ffi::OsString>,
    check: impl Fn(&Path, Outcome),
) -> u32 {
    let log = EventLog::new(cli.path("home/log.jsonl"));
    for n in 1..100u32 {
        let dir = cli.path(&format!("out-{n}"));
        std::fs::create_dir(&dir).unwrap();
        let entries = log.verify().unwrap().entries.len();
        let run = cli
            .cmd()
            .args(args(&dir))
            .env("CUSTODIA_CRASH_AT", n.to_string())
            .output()
            .unwrap();
        if run.status.success() {
            check(
                &dir,
                Outcome::Completed {
                    logged: log.verify().unwrap().entries.len() - entries,
                },
            );
            return n - 1;
        }
        assert_eq!(run.status.signal(), Some(9), "point {n}: {run:?}");
        let after = log
            .verify()
            .unwrap_or_else(|e| panic!("point {n}: the log no longer verifies: {e}"));
        let logged = after.entries.len() - entries;
        assert!(logged <= 1, "point {n}: {logged} entries");
        only_outputs_and_temporaries(&dir, n);
        check(&dir, Outcome::Killed { logged });
        let done = output_present(&dir);
        let again = cli.cmd().args(args(&dir)).output().unwrap();
        if done {
            // Killed after the rename: the work is done, and running the
            // command again refuses to replace its output.
            assert_eq!(again.status.code(), Some(2), "point {n}: {again:?}");
            let says = String::from_utf8_lossy(&again.stderr);
            assert!(
                says.contains("already exists") || says.contains("is not empty"),
                "{says}"
            );
        } else {
            // The same command, run again, completes.
            assert!(again.status.success(), "point {n}: rerun failed: {again:?}");
            check(
                &dir,
                Outcome::Completed {
                    logged: log.verify().unwrap().entries.len() - entries - logged,
                },
            );
        }
    }
    panic!("the command never completed");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Killed; `logged` entries were added (0 or 1).
    Killed { logged: usize },
    /// Ran to the end; `logged` entries were added by this run.
    Completed { logged: usize },
}

/// Whether the command's output (a file or a directory of frames) is there.
fn output_present(dir: &Path) -> bool {
    let frames = dir.join("frames");
    dir.join("out.psbt").exists()
        || (frames.exists() && std::fs::read_dir(&frames).unwrap().next().is_some())
}

fn only_outputs_and_temporaries(dir: &Path, n: u32) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            name == "out.psbt" || name == "frames" || name.starts_with(".custodia-"),
            "point {n}: unexpected {name}"
        );
    }
}

/// The signed or approved PSBT at `path`, if it is there, is whole.
fn whole_psbt(path: &Path) -> Option<bitcoin::Psbt> {
    path.exists()
        .then(|| PsbtDocument::read(path).unwrap().psbt().clone())
}

#[test]
fn signing_to_a_file_survives_a_kill_at_every_point() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    let input = cli.write_psbt("payout.psbt", &hot_payout(&policy, 1, BTC / 2));
    let points = at_every_crash_point(
        &cli,
        |dir| {
            vec![
                "sign".into(),
                input.clone().into(),
                "-o".into(),
                dir.join("out.psbt").into(),
                "--yes".into(),
            ]
        },
        |dir, outcome| match (outcome, whole_psbt(&dir.join("out.psbt"))) {
            (Outcome::Killed { logged: 0 }, Some(_)) => panic!("an output without its log entry"),
            (_, Some(psbt)) => assert_eq!(psbt.inputs[0].partial_sigs.len(), 1),
            (Outcome::Completed { .. }, None) => panic!("completed without output"),
            (Outcome::Killed { .. }, None) => {}
        },
    );
    assert!(points >= 5, "only {points} crash points");
}

#[test]
fn signing_to_qr_frames_survives_a_kill_at_every_point() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    let input = cli.write_psbt("payout.psbt", &hot_payout(&policy, 1, BTC / 2));
    let points = at_every_crash_point(
        &cli,
        |dir| {
            // BBQr at the largest version: one frame (PNG and SVG), so the
            // run stops at few points.
            let mut args: Vec<std::ffi::OsString> = vec![
                "sign".into(),
                input.clone().into(),
                "--qr-out".into(),
                dir.join("frames").into(),
            ];
            args.extend(["--qr-format", "bbqr", "--qr-version", "40", "--yes"].map(Into::into));
            args
        },
        |dir, outcome| {
            let frames = dir.join("frames");
            let present = frames.exists() && std::fs::read_dir(&frames).unwrap().next().is_some();
            match outcome {
                Outcome::Killed { logged: 0 } => {
                    assert!(!present, "frames without their log entry")
                }
                Outcome::Completed { .. } => assert!(present),
                Outcome::Killed { .. } => {}
            }
        },
    );
    assert!(points >= 5, "only {points} crash points");
}

#[test]
fn approving_survives_a_kill_at_every_point() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("cold-1", "regtest-exchange");
    cli.import_approver("sato");
    let input = cli.write_psbt("transfer.psbt", &cold_to_hot(&policy, 2 * BTC));
    at_every_crash_point(
        &cli,
        |dir| {
            vec![
                "approve".into(),
                input.clone().into(),
                "--approver".into(),
                "sato".into(),
                "--yes".into(),
                "-o".into(),
                dir.join("out.psbt").into(),
            ]
        },
        |dir, outcome| match (outcome, whole_psbt(&dir.join("out.psbt"))) {
            (Outcome::Killed { logged: 0 }, Some(_)) => panic!("an approval without its log entry"),
            (_, Some(psbt)) => assert!(!psbt.proprietary.is_empty(), "the approval is in the PSBT"),
            (Outcome::Completed { .. }, None) => panic!("completed without output"),
            (Outcome::Killed { .. }, None) => {}
        },
    );
}

#[test]
fn registering_survives_a_kill_at_every_point() {
    // Each round registers the taproot vault anew in a fresh signer, since a
    // completed registration cannot be repeated on the same data dir.
    let mut n = 1;
    loop {
        let cli = SignerCli::new("hot-1", "regtest-exchange");
        let log = EventLog::new(cli.path("home/log.jsonl"));
        let before = log.verify().unwrap().entries.len();
        let register = || {
            let mut cmd = cli.cmd();
            cmd.arg("register")
                .arg(crate_path("policies/regtest-taproot.toml"))
                .arg("--yes");
            cmd
        };
        let run = register()
            .env("CUSTODIA_CRASH_AT", n.to_string())
            .output()
            .unwrap();
        let registered = |cli: &SignerCli| -> bool {
            let out = cli.cmd().args(["policies", "--json"]).output().unwrap();
            assert!(out.status.success(), "{out:?}");
            String::from_utf8_lossy(&out.stdout).contains("exchange-taproot")
        };
        if run.status.success() {
            assert!(registered(&cli));
            assert!(n > 4, "only {} crash points", n - 1);
            return;
        }
        assert_eq!(run.status.signal(), Some(9), "point {n}");
        let logged = log.verify().unwrap().entries.len() - before;
        // Registered exactly when the log says so.
        assert_eq!(registered(&cli), logged == 1, "point {n}");
        register().assert().success();
        assert!(registered(&cli));
        assert_eq!(
            log.verify().unwrap().entries.len() - before,
            1,
            "point {n}: one register entry in all"
        );
        n += 1;
    }
}

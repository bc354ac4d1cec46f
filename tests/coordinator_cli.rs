//! Coordinator argument and input errors that need no node: each exits with the
//! documented code and a message that says what to do.
#![cfg(feature = "online")]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

const POLICY: &str = "policies/regtest-exchange.toml";
const PAYEE_1: &str = "bcrt1qn6y5jd4gp208cx6px2crc48dvkc5k3028w88ml";

fn cmd(data_dir: &Path) -> Command {
    let mut c = Command::cargo_bin("custodia-coordinator").unwrap();
    c.env_remove("CUSTODIA_RPC_URL")
        .env_remove("CUSTODIA_RPC_COOKIE")
        .env_remove("CUSTODIA_RPC_USER")
        .env_remove("CUSTODIA_RPC_PASS")
        .env("CUSTODIA_COORDINATOR_DIR", data_dir);
    c
}

/// A data dir initialized without node settings.
fn initialized() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("coordinator");
    cmd(&dir)
        .args(["init", POLICY])
        .assert()
        .success()
        .stdout(predicate::str::contains("initialized"))
        .stdout(predicate::str::contains("no node settings"));
    (tmp, dir)
}

#[test]
fn commands_before_init_say_to_run_init() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        vec!["balance"],
        vec!["status"],
        vec!["address", "--tier", "cold"],
    ] {
        cmd(&tmp.path().join("nothing"))
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("custodia-coordinator init"));
    }
}

#[test]
fn init_creates_a_private_data_dir_with_canonical_policy() {
    let (_tmp, dir) = initialized();
    let stored = std::fs::read_to_string(dir.join("policy.toml")).unwrap();
    let policy = custodia::policy::VaultPolicy::load(Path::new(POLICY)).unwrap();
    assert_eq!(stored, policy.to_toml());
    assert!(dir.join("cold.sqlite").exists() && dir.join("hot.sqlite").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("policy.toml")), 0o600);
        assert_eq!(mode(&dir.join("cold.sqlite")), 0o600);
    }
    // Balances of a fresh vault need no node: both empty, ratio fine.
    cmd(&dir)
        .args(["balance", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"total_sat\": 0"))
        .stdout(predicate::str::contains("\"ratio_ok\": true"));
    cmd(&dir)
        .args(["log", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("1 entries"));
}

#[test]
fn node_settings_are_checked() {
    let (_tmp, dir) = initialized();
    cmd(&dir)
        .args(["status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--rpc-cookie"));
    cmd(&dir)
        .args(["--rpc-user", "u", "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--rpc-pass"));
    cmd(&dir)
        .args(["--rpc-cookie", "/nonexistent/.cookie", "status"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("cookie file"));
}

#[test]
fn bad_arguments_exit_2() {
    let (tmp, dir) = initialized();
    let out = tmp.path().join("p.psbt");
    let out = out.to_str().unwrap();
    for (args, message) in [
        (vec!["address", "--tier", "warm"], "unknown tier"),
        (
            vec![
                "propose", "transfer", "--from", "cold", "--to", "hot", "--amount", "5", "-o", out,
            ],
            "no unit",
        ),
        (
            vec![
                "propose",
                "transfer",
                "--from",
                "cold",
                "--to",
                "hot",
                "--amount",
                "1 BTC",
                "--fee-rate",
                "fast",
                "-o",
                out,
            ],
            "fee rate",
        ),
        (
            vec![
                "propose",
                "transfer",
                "--from",
                "cold",
                "--to",
                "cold",
                "--amount",
                "1 BTC",
                "--fee-rate",
                "2",
                "-o",
                out,
            ],
            "from one tier to the other",
        ),
        (vec!["combine", "-o", out], "required"),
        (
            vec!["init", "policies/does-not-exist.toml"],
            "does-not-exist",
        ),
    ] {
        cmd(&dir)
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    assert!(!Path::new(out).exists());
}

#[test]
fn payout_csv_errors_name_the_line() {
    let (tmp, dir) = initialized();
    let csv = tmp.path().join("payouts.csv");
    let out = tmp.path().join("p.psbt");
    for (text, line, message) in [
        (String::new(), 0, "no payouts"),
        ("address,amount\n".to_owned(), 0, "no payouts"),
        (
            format!("address,amount\n{PAYEE_1},1 BTC\n{PAYEE_1},2 BTC\n"),
            3,
            "listed twice",
        ),
        (format!("{PAYEE_1},0.5\n"), 1, "no unit"),
        (format!("{PAYEE_1},-1 BTC\n"), 1, "not an amount"),
        (format!("{PAYEE_1},0 sat\n"), 1, "zero"),
        (
            "# payouts\nbc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq,1 BTC\n".to_owned(),
            2,
            "network",
        ),
        ("tb1qxyz,1 BTC\n".to_owned(), 1, "not a bitcoin address"),
        (format!("{PAYEE_1};1 BTC\n"), 1, "expected `address,amount`"),
    ] {
        std::fs::write(&csv, &text).unwrap();
        cmd(&dir)
            .args(["propose", "payout", "--csv"])
            .arg(&csv)
            .arg("-o")
            .arg(&out)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("line {line}:")))
            .stderr(predicate::str::contains(message));
        assert!(!out.exists());
    }
    cmd(&dir)
        .args(["propose", "payout", "--csv", "missing.csv", "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read"));
}

#[test]
fn a_changed_policy_needs_the_replace_flag() {
    let (tmp, dir) = initialized();
    let changed = tmp.path().join("changed.toml");
    std::fs::write(
        &changed,
        std::fs::read_to_string(POLICY)
            .unwrap()
            .replace("cold_min_percent = 80", "cold_min_percent = 85"),
    )
    .unwrap();
    cmd(&dir)
        .arg("init")
        .arg(&changed)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("- cold_min_percent = 80"))
        .stderr(predicate::str::contains("+ cold_min_percent = 85"));
    let stored = std::fs::read_to_string(dir.join("policy.toml")).unwrap();
    assert!(stored.contains("cold_min_percent = 80"));
    cmd(&dir)
        .arg("init")
        .arg(&changed)
        .arg("--replace-policy")
        .assert()
        .success()
        .stdout(predicate::str::contains("replaced policy"));
    // The cold and hot descriptors did not change, so the wallets were kept.
    assert!(dir.join("cold.sqlite").exists());
    cmd(&dir)
        .args(["log", "verify", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"entries\": 2"));

    // A new cold quorum changes the cold descriptor: that wallet starts over,
    // its old database kept beside it; the hot wallet stays.
    let quorum = tmp.path().join("quorum.toml");
    let text = std::fs::read_to_string(&changed).unwrap();
    let text = text.replacen("threshold = 3", "threshold = 4", 1);
    std::fs::write(&quorum, text).unwrap();
    let out = cmd(&dir)
        .arg("init")
        .arg(&quorum)
        .args(["--replace-policy", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["wallets_restarted"], serde_json::json!(["cold"]));
    let kept = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("cold.sqlite."))
        .count();
    assert_eq!(kept, 1);
    assert!(dir.join("cold.sqlite").exists());
}

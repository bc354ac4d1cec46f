//! custodia-signer's key store from the command line: init, xpub, restore,
//! passphrase change, registration and the log, including every way a
//! key file can be wrong (passphrase, truncation, permissions).

mod signer_keystore_support;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use assert_cmd::Command;
use custodia::policy::OriginXpub;
use predicates::prelude::*;
use serde_json::Value;
use signer_keystore_support::*;

#[test]
fn init_makes_a_private_encrypted_seed_and_xpubs_for_policies() {
    let s = Scratch::new();
    let out = s
        .cmd("home")
        .args(["init", "--network", "regtest"])
        .assert()
        .success()
        .stdout(predicate::str::contains("24. "))
        .stdout(predicate::str::contains("seed created: master fingerprint"));
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let home = s.path("home");
    assert_eq!(mode(&home), 0o700);
    for f in ["seed.age", "key.json", "log.jsonl"] {
        assert_eq!(mode(&home.join(f)), 0o600, "{f}");
    }
    // The words are on screen once, never on disk in the clear.
    let first_word = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("1. "))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned();
    let seed = std::fs::read(home.join("seed.age")).unwrap();
    assert!(seed.starts_with(b"age-encryption.org/v1"));
    assert!(!String::from_utf8_lossy(&seed).contains(&first_word));

    let info: Value =
        serde_json::from_slice(&std::fs::read(home.join("key.json")).unwrap()).unwrap();
    let xpubs = s.xpubs("home");
    let wsh: OriginXpub = xpubs["wsh"].as_str().unwrap().parse().unwrap();
    let tr: OriginXpub = xpubs["tr"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        wsh.fingerprint().to_string(),
        info["fingerprint"].as_str().unwrap()
    );
    assert_eq!(wsh.path().to_string(), "48'/1'/0'/2'");
    assert_eq!(tr.path().to_string(), "48'/1'/0'/3'");
    let acc3 = s
        .cmd("home")
        .args(["xpub", "--account", "3"])
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&acc3.get_output().stdout).contains("/48'/1'/3'/2']tpub"));

    // A second init never replaces the seed.
    s.cmd("home")
        .args(["init", "--network", "regtest", "--no-display"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(std::fs::read(home.join("seed.age")).unwrap(), seed);
}

#[test]
fn no_display_hides_the_words_and_short_passphrases_are_refused() {
    let s = Scratch::new();
    s.secret_file("short", "short");
    s.signer("home", "short")
        .args(["init", "--network", "regtest"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("at least 8 characters"));
    assert!(!s.path("home/seed.age").exists());
    s.cmd("home")
        .args(["init", "--network", "regtest", "--no-display"])
        .assert()
        .success()
        .stdout(predicate::str::contains("24. ").not());
}

#[test]
fn wrong_passphrase_is_exit_2_and_changes_nothing() {
    let s = Scratch::new();
    s.restore("home", "cold-2");
    let before = std::fs::read(s.path("home/seed.age")).unwrap();
    s.secret_file("wrong", "not the passphrase");
    s.signer("home", "wrong")
        .args(["xpub"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("wrong passphrase"));
    s.signer("home", "wrong")
        .args(["backup", "--recipient"])
        .arg(age::x25519::Identity::generate().to_public().to_string())
        .arg("-o")
        .arg(s.path("b.age"))
        .assert()
        .code(2);
    assert!(!s.path("b.age").exists());
    assert_eq!(std::fs::read(s.path("home/seed.age")).unwrap(), before);
}

#[test]
fn truncated_or_altered_seed_is_exit_2() {
    let s = Scratch::new();
    s.restore("home", "cold-2");
    let seed_path = s.path("home/seed.age");
    let good = std::fs::read(&seed_path).unwrap();
    for bad in [good[..good.len() - 20].to_vec(), good[..40].to_vec(), {
        let mut b = good.clone();
        let last = b.len() - 5;
        b[last] ^= 1;
        b
    }] {
        std::fs::write(&seed_path, &bad).unwrap();
        s.cmd("home")
            .arg("xpub")
            .assert()
            .code(2)
            .stderr(predicate::str::contains("damaged").or(predicate::str::contains("altered")));
        assert_eq!(std::fs::read(&seed_path).unwrap(), bad);
    }
}

#[test]
fn loose_permissions_are_refused_with_the_chmod_fix() {
    let s = Scratch::new();
    s.restore("home", "cold-2");
    let seed = s.path("home/seed.age");
    std::fs::set_permissions(&seed, std::fs::Permissions::from_mode(0o644)).unwrap();
    s.cmd("home")
        .arg("xpub")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "chmod 600 {}",
            seed.display()
        )));
    std::fs::set_permissions(&seed, std::fs::Permissions::from_mode(0o600)).unwrap();
    s.cmd("home").arg("xpub").assert().success();

    let home = s.path("home");
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755)).unwrap();
    s.cmd("home")
        .args(["log", "verify"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "chmod 700 {}",
            home.display()
        )));
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();

    // A passphrase file others can read is refused too.
    std::fs::set_permissions(s.path("pass"), std::fs::Permissions::from_mode(0o640)).unwrap();
    s.cmd("home")
        .arg("xpub")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("chmod 600"));
}

#[test]
fn restoring_the_test_mnemonic_gives_its_published_xpubs() {
    let s = Scratch::new();
    let key = test_key("cold-1");
    // Words typed on stdin, in capitals with extra spaces.
    s.cmd("home")
        .args(["restore", "--network", "regtest"])
        .write_stdin(format!(
            "  {}\n",
            key.mnemonic.to_uppercase().replace(' ', "   ")
        ))
        .assert()
        .success();
    let xpubs = s.xpubs("home");
    assert_eq!(xpubs["wsh"], key.wsh_xpub.as_str());
    assert_eq!(xpubs["tr"], key.tr_xpub.as_str());

    // A word out of order fails the checksum, and nothing is stored.
    let mut words: Vec<&str> = key.mnemonic.split(' ').collect();
    words.swap(0, 1);
    s.cmd("bad")
        .args(["restore", "--network", "regtest"])
        .write_stdin(words.join(" "))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("checksum"));
    assert!(!s.path("bad/seed.age").exists());
}

#[test]
fn data_dir_comes_from_flag_then_env_then_home() {
    let s = Scratch::new();
    let run = |envs: &[(&str, PathBuf)]| {
        let mut cmd = Command::cargo_bin("custodia-signer").unwrap();
        cmd.env_remove("CUSTODIA_SIGNER_DIR");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.arg("--passphrase-file")
            .arg(s.path("pass"))
            .args(["init", "--network", "regtest", "--no-display"])
            .assert()
            .success();
    };
    run(&[("HOME", s.path("home-dir"))]);
    assert!(s.path("home-dir/.custodia-signer/seed.age").exists());
    run(&[
        ("HOME", s.path("home-dir")),
        ("CUSTODIA_SIGNER_DIR", s.path("from-env")),
    ]);
    assert!(s.path("from-env/seed.age").exists());
    assert_eq!(mode(&s.path("from-env")), 0o700);
    // The flag wins over the environment.
    s.cmd("from-flag")
        .env("CUSTODIA_SIGNER_DIR", s.path("from-env"))
        .args(["init", "--network", "regtest", "--no-display"])
        .assert()
        .success();
    assert!(s.path("from-flag/seed.age").exists());
}

#[test]
fn a_swapped_seed_file_is_caught_by_key_json() {
    let s = Scratch::new();
    s.restore("a", "cold-1");
    s.restore("b", "cold-2");
    // Same passphrase, other key: the file decrypts, but it is not this signer's key.
    std::fs::copy(s.path("b/seed.age"), s.path("a/seed.age")).unwrap();
    s.cmd("a")
        .arg("xpub")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("different key"))
        .stderr(predicate::str::contains("02a6288e"));
}

/// `passphrase change`: a wrong old passphrase or a short new one changes
/// nothing and logs nothing (exit 2); then every secret opens with the new
/// passphrase only.
#[test]
fn passphrase_change_moves_every_secret_and_refuses_without_the_old_one() {
    let s = Scratch::new();
    s.restore("home", "cold-2");
    let (_, secret) = s.approver_secret("sato");
    s.cmd("home")
        .args(["approver", "import", "--id", "sato", "--secret-file"])
        .arg(&secret)
        .assert()
        .success();
    let seed = || std::fs::read(s.path("home/seed.age")).unwrap();
    let log = || std::fs::read_to_string(s.path("home/log.jsonl")).unwrap();
    let (seed_before, log_before) = (seed(), log());
    s.secret_file("wrong", "not the passphrase");
    let new = s.secret_file("new", "another long passphrase");
    s.signer("home", "wrong")
        .args(["passphrase", "change", "--new-passphrase-file"])
        .arg(&new)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("wrong passphrase"));
    let short = s.secret_file("short", "short");
    s.cmd("home")
        .args(["passphrase", "change", "--new-passphrase-file"])
        .arg(&short)
        .assert()
        .code(2);
    assert_eq!(seed(), seed_before);
    assert_eq!(log(), log_before);

    s.cmd("home")
        .args(["passphrase", "change", "--new-passphrase-file"])
        .arg(&new)
        .assert()
        .success()
        .stdout(predicate::str::contains("2 secret file(s)"));
    assert_eq!(mode(&s.path("home/seed.age")), 0o600);
    s.signer("home", "new").args(["xpub"]).assert().success();
    s.cmd("home").args(["xpub"]).assert().code(2);
    assert!(log().contains("\"kind\":\"passphrase-change\""));
}

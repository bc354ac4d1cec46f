//! custodia-signer's backups from the command line: a backup restores the
//! same key and carries the approval keys; a backup to another identity
//! cannot be opened.

mod signer_keystore_support;

use predicates::prelude::*;
use serde_json::Value;
use signer_keystore_support::*;

#[test]
fn backup_and_restore_backup_give_the_same_key() {
    let s = Scratch::new();
    s.cmd("home")
        .args(["init", "--network", "regtest", "--no-display"])
        .assert()
        .success();
    let original = s.xpubs("home");
    let site_a = age::x25519::Identity::generate();
    let site_b = age::x25519::Identity::generate();
    let id_b = {
        use age::secrecy::ExposeSecret;
        s.secret_file("site-b.key", site_b.to_string().expose_secret())
    };
    let backup = s.path("seed-backup.age");
    s.cmd("home")
        .args(["backup", "--recipient"])
        .arg(site_a.to_public().to_string())
        .arg("--recipient")
        .arg(site_b.to_public().to_string())
        .arg("-o")
        .arg(&backup)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            original["fingerprint"].as_str().unwrap(),
        ));
    // Never overwrites.
    s.cmd("home")
        .args(["backup", "--recipient"])
        .arg(site_a.to_public().to_string())
        .arg("-o")
        .arg(&backup)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));

    s.secret_file("pass2", "a new passphrase here");
    s.signer("restored", "pass2")
        .args(["restore-backup"])
        .arg(&backup)
        .arg("--identity")
        .arg(&id_b)
        .args(["--network", "regtest"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            original["fingerprint"].as_str().unwrap(),
        ));
    let restored: Value = {
        let out = s
            .signer("restored", "pass2")
            .args(["xpub", "--json"])
            .assert()
            .success();
        serde_json::from_slice(&out.get_output().stdout).unwrap()
    };
    assert_eq!(restored, original);

    // Into a data dir that lost its seed.age: key.json must match.
    std::fs::remove_file(s.path("home/seed.age")).unwrap();
    s.cmd("home")
        .arg("restore-backup")
        .arg(&backup)
        .arg("--identity")
        .arg(&id_b)
        .assert()
        .success()
        .stdout(predicate::str::contains("matches key.json"));
    // A different key's data dir refuses the backup.
    s.restore("other", "cold-3");
    std::fs::remove_file(s.path("other/seed.age")).unwrap();
    s.cmd("other")
        .arg("restore-backup")
        .arg(&backup)
        .arg("--identity")
        .arg(&id_b)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("different key"));
    assert!(!s.path("other/seed.age").exists());
    // The wrong identity cannot open it.
    let stranger = {
        use age::secrecy::ExposeSecret;
        s.secret_file(
            "stranger.key",
            age::x25519::Identity::generate()
                .to_string()
                .expose_secret(),
        )
    };
    s.cmd("third")
        .arg("restore-backup")
        .arg(&backup)
        .arg("--identity")
        .arg(&stranger)
        .args(["--network", "regtest"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not encrypted to any identity"));
}

/// An approver's laptop (no seed) backs up its approval key and a new
/// laptop restores the same key from the backup.
#[test]
fn approval_keys_travel_in_the_backup() {
    let s = Scratch::new();
    let (approver, secret) = s.approver_secret("sato");
    s.cmd("approver")
        .args(["approver", "import", "--id", "sato", "--secret-file"])
        .arg(&secret)
        .assert()
        .success();
    let site = age::x25519::Identity::generate();
    let id = {
        use age::secrecy::ExposeSecret;
        s.secret_file("site.key", site.to_string().expose_secret())
    };
    let backup = s.path("approver.age");
    s.cmd("approver")
        .args(["backup", "--recipient"])
        .arg(site.to_public().to_string())
        .arg("-o")
        .arg(&backup)
        .assert()
        .success()
        .stdout(predicate::str::contains("no seed and 1 approval key(s)"));
    s.cmd("new-laptop")
        .args(["restore-backup"])
        .arg(&backup)
        .arg("--identity")
        .arg(&id)
        .assert()
        .success()
        .stdout(predicate::str::contains("approval key `sato` restored"));
    s.cmd("new-laptop")
        .args(["approver", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains(approver.pubkey.as_str()));
}

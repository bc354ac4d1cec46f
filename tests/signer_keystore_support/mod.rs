//! What the key-store CLI tests share: a scratch signer home and the
//! public test keys.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

pub const PASSPHRASE: &str = "correct horse battery";

pub fn crate_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[derive(serde::Deserialize)]
pub struct TestKeys {
    pub keys: Vec<TestKey>,
    pub approvers: Vec<TestApprover>,
}
#[derive(serde::Deserialize)]
pub struct TestKey {
    pub id: String,
    pub mnemonic: String,
    pub wsh_xpub: String,
    pub tr_xpub: String,
}
#[derive(serde::Deserialize)]
pub struct TestApprover {
    pub id: String,
    pub secret_hex: String,
    pub pubkey: String,
}

pub fn test_keys() -> TestKeys {
    toml::from_str(&std::fs::read_to_string(crate_path("tests/data/test-keys.toml")).unwrap())
        .unwrap()
}

pub fn test_key(id: &str) -> TestKey {
    test_keys().keys.into_iter().find(|k| k.id == id).unwrap()
}

/// A scratch directory (0700) holding signer data dirs and secret files.
pub struct Scratch {
    pub tmp: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let s = Scratch { tmp };
        s.secret_file("pass", PASSPHRASE);
        s
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// Writes a file only its owner can read.
    pub fn secret_file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, format!("{content}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    }

    /// The test approver `id` and a private file holding its secret key.
    pub fn approver_secret(&self, id: &str) -> (TestApprover, PathBuf) {
        let approver = test_keys()
            .approvers
            .into_iter()
            .find(|a| a.id == id)
            .unwrap();
        let secret = self.secret_file(&format!("{id}.hex"), &approver.secret_hex);
        (approver, secret)
    }

    /// custodia-signer on data dir `home`, passphrase from file `pass`.
    pub fn signer(&self, home: &str, pass: &str) -> Command {
        let mut cmd = Command::cargo_bin("custodia-signer").unwrap();
        cmd.env_remove("CUSTODIA_SIGNER_DIR")
            .arg("--data-dir")
            .arg(self.path(home))
            .arg("--passphrase-file")
            .arg(self.path(pass));
        cmd
    }

    pub fn cmd(&self, home: &str) -> Command {
        self.signer(home, "pass")
    }

    pub fn restore(&self, home: &str, key: &str) {
        let words = self.secret_file(&format!("{home}-words"), &test_key(key).mnemonic);
        self.cmd(home)
            .args(["restore", "--network", "regtest", "--words-file"])
            .arg(words)
            .assert()
            .success()
            .stdout(predicate::str::contains("seed restored"));
    }

    pub fn xpubs(&self, home: &str) -> Value {
        let out = self.cmd(home).args(["xpub", "--json"]).assert().success();
        serde_json::from_slice(&out.get_output().stdout).unwrap()
    }
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

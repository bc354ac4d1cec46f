//! `custodia-signer` as a key holder runs it, for CLI tests: a data dir with
//! one test key and the registered example policy, and the assertion that
//! a refusal leaves everything as it was.

use std::path::{Path, PathBuf};

use bitcoin::Psbt;

use super::{crate_path, keys_file, mnemonic};

/// A `custodia-signer` data dir holding one test key (restored from its
/// words) and the registered example policy, for CLI tests.
pub struct SignerCli {
    /// Scratch directory (0700): data dir, secret files, PSBT files.
    pub dir: tempfile::TempDir,
}

impl SignerCli {
    /// Restores `key` (e.g. `cold-1`) and registers policy `policy_name`.
    pub fn new(key: &str, policy_name: &str) -> SignerCli {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let cli = SignerCli { dir };
        cli.secret("pass", "test passphrase for custodia");
        cli.secret("words", &mnemonic(key));
        cli.cmd()
            .args(["restore", "--network", "regtest", "--words-file"])
            .arg(cli.path("words"))
            .assert()
            .success();
        cli.cmd()
            .arg("register")
            .arg(crate_path(&format!("policies/{policy_name}.toml")))
            .arg("--yes")
            .assert()
            .success();
        cli
    }

    /// A path in the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file only its owner may read.
    pub fn secret(&self, name: &str, content: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.path(name);
        std::fs::write(&p, format!("{content}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    }

    /// Stores approver `id`'s test secret as an approval key.
    pub fn import_approver(&self, id: &str) {
        let secret = self.secret(&format!("{id}.secret"), &approver_secret_hex(id));
        self.cmd()
            .args(["approver", "import", "--id", id, "--secret-file"])
            .arg(secret)
            .assert()
            .success();
    }

    /// `custodia-signer` on this data dir with the passphrase file.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("custodia-signer").unwrap();
        // An offline laptop, whatever the test machine's network: a
        // listing of interfaces that does not exist holds none.
        cmd.env("CUSTODIA_NET_CLASS_DIR", self.path("no-network-interfaces"));
        cmd.env_remove("CUSTODIA_SIGNER_DIR")
            .arg("--data-dir")
            .arg(self.path("home"))
            .arg("--passphrase-file")
            .arg(self.path("pass"));
        cmd
    }

    /// `custodia-signer sign INPUT -o OUTPUT`, to add flags to.
    pub fn sign(&self, input: impl AsRef<Path>, output: impl AsRef<Path>) -> assert_cmd::Command {
        let mut cmd = self.cmd();
        cmd.arg("sign")
            .arg(input.as_ref())
            .arg("-o")
            .arg(output.as_ref());
        cmd
    }

    /// Writes `psbt` as base64 into the scratch directory.
    pub fn write_psbt(&self, name: &str, psbt: &Psbt) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, psbt.to_string()).unwrap();
        p
    }
}

fn approver_secret_hex(id: &str) -> String {
    keys_file()
        .approvers
        .into_iter()
        .find(|a| a.id == id)
        .unwrap()
        .secret_hex
}

// ---------- PSBTs of the example vault ----------

/// The files a refusal must leave as they were.
pub struct Untouched {
    input: PathBuf,
    input_bytes: Vec<u8>,
    log: PathBuf,
    log_bytes: Vec<u8>,
}

impl Untouched {
    pub fn of(cli: &SignerCli, input: &Path) -> Untouched {
        let log = cli.path("home").join("log.jsonl");
        Untouched {
            input: input.to_owned(),
            input_bytes: std::fs::read(input).unwrap(),
            log_bytes: std::fs::read(&log).unwrap(),
            log,
        }
    }

    pub fn assert_unchanged(&self, output: &Path) {
        assert!(!output.exists(), "{} was written", output.display());
        assert_eq!(std::fs::read(&self.input).unwrap(), self.input_bytes);
        assert_eq!(
            std::fs::read(&self.log).unwrap(),
            self.log_bytes,
            "the log gained an entry"
        );
    }
}

/// `sign INPUT -o OUTPUT --yes` must exit 1 with `rule` (or another text)
/// on stderr, leaving everything as it was: no output file, the input and
/// the signer's log byte-identical.
pub fn assert_sign_refused(cli: &SignerCli, psbt: &Psbt, rule: &str) {
    let input = cli.write_psbt("attack.psbt", psbt);
    let output = cli.path("attack.signed");
    let before = Untouched::of(cli, &input);
    cli.sign(&input, &output)
        .arg("--yes")
        .assert()
        .code(1)
        .stderr(predicates::str::contains(rule));
    before.assert_unchanged(&output);
}

//! custodia-auditor's customer proofs from the shell, with no node: an
//! inclusion proof written and verified against the published root of the
//! known-answer vector, and every bad input refused with its exit code and
//! nothing written.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

struct Setup {
    dir: tempfile::TempDir,
    root: String,
}

impl Setup {
    /// The liabilities and salt secret of tests/data/reserves/vector.json.
    fn new() -> Setup {
        let vector: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string("tests/data/reserves/vector.json").unwrap(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut csv = String::from("customer,amount\n");
        for row in vector["liabilities"].as_array().unwrap() {
            csv += &format!("{},{} sat\n", row[0].as_str().unwrap(), row[1]);
        }
        std::fs::write(dir.path().join("liabilities.csv"), csv).unwrap();
        let secret = dir.path().join("salt.secret");
        std::fs::write(&secret, [0x11u8; 32]).unwrap();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        Setup {
            root: vector["root_hex"].as_str().unwrap().to_owned(),
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn inclusion(&self, customer: &str, out: &Path) -> (i32, String) {
        let o = Command::cargo_bin("custodia-auditor")
            .unwrap()
            .args(["inclusion", "--liabilities"])
            .arg(self.path("liabilities.csv"))
            .arg("--salt-secret")
            .arg(self.path("salt.secret"))
            .args(["--customer", customer, "-o"])
            .arg(out)
            .output()
            .unwrap();
        (
            o.status.code().unwrap(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }

    fn verify(&self, proof: &Path, root: &str) -> (i32, String, String) {
        let o = Command::cargo_bin("custodia-auditor")
            .unwrap()
            .arg("verify-inclusion")
            .arg(proof)
            .args(["--root", root])
            .output()
            .unwrap();
        (
            o.status.code().unwrap(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }
}

#[test]
fn a_customer_checks_their_proof_and_a_tampered_one_fails() {
    let s = Setup::new();
    let proof = s.path("bob.json");
    assert_eq!(s.inclusion("bob", &proof).0, 0);
    let (code, out, err) = s.verify(&proof, &s.root);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("OK: customer bob is included with 0.50000000 BTC"),
        "{out}"
    );

    // Never replaced.
    let before = std::fs::read(&proof).unwrap();
    let (code, err) = s.inclusion("bob", &proof);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read(&proof).unwrap(), before);

    // Amount, sibling sum, salt, path: each edit fails with exit 1.
    let text = std::fs::read_to_string(&proof).unwrap();
    let p: serde_json::Value = serde_json::from_str(&text).unwrap();
    let salt = p["salt"].as_str().unwrap();
    let sibling = p["path"][0]["sum_sat"].to_string();
    let edits = [
        text.replace("\"amount_sat\": 50000000", "\"amount_sat\": 90000000"),
        text.replacen(
            &format!("\"sum_sat\": {sibling}"),
            &format!("\"sum_sat\": {}", sibling.parse::<u64>().unwrap() + 1),
            1,
        ),
        text.replace(salt, &format!("{}0", &salt[..63])),
        text.replacen("\"side\": \"left\"", "\"side\": \"right\"", 1),
    ];
    for (i, edited) in edits.iter().enumerate() {
        assert_ne!(edited, &text, "edit {i} changed nothing");
        let f = s.path(&format!("edited-{i}.json"));
        std::fs::write(&f, edited).unwrap();
        let (code, _, err) = s.verify(&f, &s.root);
        assert_eq!(code, 1, "edit {i}: {err}");
    }
    // Another root than the published one; a file that is not a proof.
    let (code, _, err) = s.verify(&proof, &"00".repeat(32));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("published root"), "{err}");
    std::fs::write(s.path("junk.json"), "{}").unwrap();
    assert_eq!(s.verify(&s.path("junk.json"), &s.root).0, 2);
}

#[test]
fn bad_liabilities_and_secrets_are_refused_and_nothing_is_written() {
    let s = Setup::new();
    let out = s.path("proof.json");
    let (code, err) = s.inclusion("mallory", &out);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("mallory"), "{err}");
    assert!(!out.exists());

    for (csv, line, what) in [
        (
            "alice,1 BTC\nbob,2 BTC\nalice,3 BTC\n",
            3,
            "listed again (first on line 1)",
        ),
        ("alice,1 BTC\nbob,-2 BTC\n", 2, "-2"),
        ("alice,1\n", 1, "unit"),
        ("alice,1 BTC,extra\n", 1, "expected 2 columns"),
        ("al ice,1 BTC\n", 1, "not a customer id"),
    ] {
        std::fs::write(s.path("liabilities.csv"), csv).unwrap();
        let (code, err) = s.inclusion("alice", &out);
        assert_eq!(code, 2, "{csv}: {err}");
        assert!(err.contains(&format!("line {line}:")), "{csv}: {err}");
        assert!(err.contains(what), "{csv}: {err}");
        assert!(!out.exists());
    }
    std::fs::write(s.path("liabilities.csv"), "alice,1 BTC\n").unwrap();

    // A secret others can read, and one too short.
    let secret = s.path("salt.secret");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(s.inclusion("alice", &out).0, 2);
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&secret, b"short").unwrap();
    let (code, err) = s.inclusion("alice", &out);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("at least 32"), "{err}");
    assert!(!out.exists());
}

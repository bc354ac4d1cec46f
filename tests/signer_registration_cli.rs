//! custodia-signer's approval keys, policy registration and log from the
//! command line.

mod signer_keystore_support;

use predicates::prelude::*;
use serde_json::Value;
use signer_keystore_support::*;

#[test]
fn approval_keys_generate_and_import() {
    let s = Scratch::new();
    let (sato, secret) = s.approver_secret("sato");
    s.cmd("home")
        .args(["approver", "import", "--id", "sato", "--secret-file"])
        .arg(&secret)
        .assert()
        .success()
        .stdout(predicate::str::contains(&sato.pubkey));
    assert_eq!(mode(&s.path("home/approvers/sato.age")), 0o600);
    assert_eq!(mode(&s.path("home/approvers")), 0o700);
    s.cmd("home")
        .args(["approver", "import", "--id", "sato", "--secret-file"])
        .arg(&secret)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));

    let out = s
        .cmd("home")
        .args(["approver", "init", "--id", "risk-officer"])
        .assert()
        .success()
        .stdout(predicate::str::contains("[[approvers]]"));
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let pubkey = stdout
        .lines()
        .find_map(|l| l.strip_prefix("pubkey = \""))
        .unwrap()
        .trim_end_matches('"');
    assert!(pubkey.parse::<bitcoin::secp256k1::XOnlyPublicKey>().is_ok());

    let list = s
        .cmd("home")
        .args(["approver", "list", "--json"])
        .assert()
        .success();
    let list: Value = serde_json::from_slice(&list.get_output().stdout).unwrap();
    assert_eq!(list[0]["id"], "risk-officer");
    assert_eq!(list[0]["pubkey"], pubkey);
    assert_eq!(list[1]["pubkey"], sato.pubkey.as_str());
    let log = std::fs::read_to_string(s.path("home/log.jsonl")).unwrap();
    assert!(!log.contains(&sato.secret_hex));
}

#[test]
fn register_shows_what_this_signer_holds_and_guards_replacement() {
    let s = Scratch::new();
    let policy = crate_path("policies/regtest-exchange.toml");
    s.restore("home", "cold-1");
    let (_, secret) = s.approver_secret("sato");
    s.cmd("home")
        .args(["approver", "import", "--id", "sato", "--secret-file"])
        .arg(&secret)
        .assert()
        .success();

    // Declined at the prompt: exit 1, nothing registered.
    s.cmd("home")
        .arg("register")
        .arg(&policy)
        .write_stdin("n\n")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("holds key cold-1 (cold)"));
    s.cmd("home")
        .args(["register", "--yes"])
        .arg(&policy)
        .assert()
        .success()
        .stdout(predicate::str::contains("holds key cold-1 (cold)"))
        .stdout(predicate::str::contains("approver sato"))
        .stdout(predicate::str::contains("registered policy"));
    let list = s
        .cmd("home")
        .args(["policies", "--json"])
        .assert()
        .success();
    let list: Value = serde_json::from_slice(&list.get_output().stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["vault"], "exchange-main");
    assert_eq!(list[0]["holdings"]["keys"][0]["key"], "cold-1");
    let old_id = list[0]["policy_id"].as_str().unwrap().to_owned();

    // A changed policy of the same vault: shows the change, needs --replace.
    let changed_text = std::fs::read_to_string(&policy).unwrap().replacen(
        "max_amount = \"5 BTC\"",
        "max_amount = \"4 BTC\"",
        1,
    );
    let changed = s.path("changed.toml");
    std::fs::write(&changed, changed_text).unwrap();
    s.cmd("home")
        .args(["register", "--yes"])
        .arg(&changed)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("- max_amount = \"5 BTC\""))
        .stdout(predicate::str::contains("+ max_amount = \"4 BTC\""))
        .stderr(predicate::str::contains("--replace"));
    s.cmd("home")
        .args(["register", "--yes", "--replace"])
        .arg(&changed)
        .assert()
        .success();
    let list = s
        .cmd("home")
        .args(["policies", "--json"])
        .assert()
        .success();
    let list: Value = serde_json::from_slice(&list.get_output().stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_ne!(list[0]["policy_id"], old_id.as_str());

    let log = s
        .cmd("home")
        .args(["log", "verify", "--json"])
        .assert()
        .success();
    let log: Value = serde_json::from_slice(&log.get_output().stdout).unwrap();
    assert_eq!(log["entries"], 4); // restore, approver-import, register, register
    let lines: Vec<Value> = std::fs::read_to_string(s.path("home/log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[3]["event"]["kind"], "register");
    assert_eq!(lines[3]["event"]["replaced"], old_id.as_str());

    // A signer holding nothing of the policy is told it can only review.
    s.restore("stranger", "hot-1");
    s.cmd("stranger")
        .args(["register", "--yes"])
        .arg(crate_path("policies/regtest-taproot.toml"))
        .assert()
        .success()
        .stdout(predicate::str::contains("holds key hot-1 (hot)"));
    s.restore("outsider", "recovery-1");
    s.cmd("outsider")
        .args(["register", "--yes"])
        .arg(&policy)
        .assert()
        .success()
        .stdout(predicate::str::contains("can only review"));
}

#[test]
fn log_verify_names_an_edited_line() {
    let s = Scratch::new();
    s.restore("home", "cold-1");
    s.cmd("home")
        .args(["register", "--yes"])
        .arg(crate_path("policies/regtest-exchange.toml"))
        .assert()
        .success();
    s.cmd("home")
        .args(["log", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2 entries, chain intact"));
    let log = s.path("home/log.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replacen("exchange-main", "exchange-evil", 1)).unwrap();
    s.cmd("home")
        .args(["log", "verify"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("line 2"));
}

#[test]
fn a_policy_where_devices_alone_make_a_quorum_is_registered_only_when_understood() {
    let s = Scratch::new();
    s.restore("home", "hot-1");
    let text = std::fs::read_to_string(crate_path("policies/regtest-exchange.toml"))
        .unwrap()
        .replace("id = \"hot-2\"\n", "id = \"hot-2\"\nsigner = \"device\"\n")
        .replace("id = \"hot-3\"\n", "id = \"hot-3\"\nsigner = \"device\"\n");
    let policy = s.path("devices.toml");
    std::fs::write(&policy, text).unwrap();
    let log = s.path("home/log.jsonl");
    let before = std::fs::read(&log).unwrap();
    s.cmd("home")
        .args(["register", "--yes"])
        .arg(&policy)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the devices hot-2, hot-3 alone make a quorum",
        ))
        .stderr(predicate::str::contains(
            "--i-understand-devices-enforce-nothing",
        ));
    assert_eq!(
        std::fs::read(&log).unwrap(),
        before,
        "the log gained an entry"
    );
    assert!(
        !s.path("home/policies").exists()
            || std::fs::read_dir(s.path("home/policies"))
                .unwrap()
                .next()
                .is_none()
    );

    s.cmd("home")
        .args([
            "register",
            "--yes",
            "--i-understand-devices-enforce-nothing",
        ])
        .arg(&policy)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "WARNING: hot wallet (2-of-3): the devices hot-2, hot-3 alone make a quorum",
        ));
    let log = std::fs::read_to_string(&log).unwrap();
    let last: Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"]["kind"], "register");
    assert_eq!(last["event"]["devices_enforce_nothing"], true);
}

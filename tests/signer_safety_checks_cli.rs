//! What the signer checks of itself and its machine before a key is
//! touched, from the command line: the known-answer self-test (`selftest`
//! passes on a sound build; with one check made to fail by fault injection,
//! honoured by debug builds only, `selftest`, `sign` and `approve` exit 3,
//! writing and logging nothing), and the warning that the laptop is online
//! (an injected `/sys/class/net` with and without an interface up).

mod signer_fixtures;

use predicates::prelude::*;
use predicates::str::contains;
use signer_fixtures::*;

const BREAK: &str = "CUSTODIA_SELFTEST_BREAK";

#[test]
fn the_self_test_passes_and_says_so() {
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    let out = cli
        .cmd()
        .args(["selftest", "--json"])
        .env_remove(BREAK)
        .assert()
        .success();
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 5);
    assert!(checks.iter().all(|c| c["passed"] == true), "{report}");
}

#[test]
fn a_failing_check_stops_selftest_sign_and_approve() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    cli.cmd()
        .arg("selftest")
        .env(BREAK, "BIP-32")
        .assert()
        .code(3)
        .stdout(contains("FAIL  BIP-32 derivation"))
        .stderr(contains("the self-test failed (BIP-32 derivation"));

    let input = cli.write_psbt("payout.psbt", &hot_payout(&policy, 1, BTC / 2));
    let output = cli.path("payout.signed");
    let before = Untouched::of(&cli, &input);
    cli.sign(&input, &output)
        .arg("--yes")
        .env(BREAK, "ECDSA")
        .assert()
        .code(3)
        .stderr(contains("nothing was signed"));
    before.assert_unchanged(&output);

    cli.import_approver("sato");
    let before = Untouched::of(&cli, &input);
    let approved = cli.path("payout.approved");
    cli.cmd()
        .args(["approve", "--approver", "sato", "--yes"])
        .arg(&input)
        .arg("-o")
        .arg(&approved)
        .env(BREAK, "approval digest")
        .assert()
        .code(3);
    before.assert_unchanged(&approved);

    // Without the fault, the same command signs.
    cli.sign(&input, &output)
        .arg("--yes")
        .env_remove(BREAK)
        .assert()
        .success();
}

/// A directory laid out as `/sys/class/net` with loopback and, if `up`,
/// an Ethernet interface that is up.
fn net_class(cli: &SignerCli, up: bool) -> std::path::PathBuf {
    let root = cli.path(if up { "net-online" } else { "net-offline" });
    let mut interfaces = vec![("lo", "unknown", "772")];
    if up {
        interfaces.push(("eth0", "up", "1"));
    }
    for (name, state, kind) in interfaces {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("operstate"), format!("{state}\n")).unwrap();
        std::fs::write(dir.join("type"), format!("{kind}\n")).unwrap();
    }
    root
}

fn last_event(cli: &SignerCli) -> serde_json::Value {
    let log = std::fs::read_to_string(cli.path("home").join("log.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    last["event"].clone()
}

#[test]
fn an_online_laptop_is_warned_before_the_passphrase_and_logged() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    let input = cli.write_psbt("payout.psbt", &hot_payout(&policy, 1, BTC / 2));

    cli.sign(&input, cli.path("offline.psbt"))
        .arg("--yes")
        .env("CUSTODIA_NET_CLASS_DIR", net_class(&cli, false))
        .assert()
        .success()
        .stderr(contains("this laptop is online").not());
    let event = last_event(&cli);
    assert_eq!(event["kind"], "sign");
    assert!(event.get("online_interfaces").is_none(), "{event}");

    cli.sign(&input, cli.path("online.psbt"))
        .arg("--yes")
        .env("CUSTODIA_NET_CLASS_DIR", net_class(&cli, true))
        .assert()
        .success()
        .stderr(contains(
            "WARNING: this laptop is online: network interface(s) eth0 up",
        ));
    let event = last_event(&cli);
    assert_eq!(event["kind"], "sign");
    assert_eq!(event["online_interfaces"], serde_json::json!(["eth0"]));
    // The log with the new field still verifies.
    cli.cmd().args(["log", "verify"]).assert().success();
}

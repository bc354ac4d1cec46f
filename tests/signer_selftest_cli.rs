//! The signer's known-answer self-test from the command line: `selftest`
//! passes on a sound build; with one check made to fail (fault injection,
//! honoured by debug builds only), `selftest`, `sign` and `approve` exit 3
//! before any key is touched, writing nothing and logging nothing.

mod signer_fixtures;

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

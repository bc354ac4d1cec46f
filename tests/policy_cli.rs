//! `custodia-coordinator policy ...`: every bad policy in tests/data/policies/bad
//! is refused with its own message and exit code 2; good ones print their id,
//! wallets and importable descriptors.
#![cfg(feature = "online")]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use custodia::policy::VaultPolicy;
use predicates::prelude::*;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn coordinator() -> Command {
    Command::cargo_bin("custodia-coordinator").unwrap()
}

#[test]
fn every_bad_policy_names_its_problem_and_exits_2() {
    let mut seen = 0;
    for entry in std::fs::read_dir(data("tests/data/policies/bad")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} lacks a `# expect:` first line", path.display()))
            .to_owned();
        coordinator()
            .args(["policy", "check"])
            .arg(&path)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(expect.clone()));
        // The library gives the same message.
        let err = VaultPolicy::from_toml(&text).unwrap_err();
        assert!(
            err.to_string().contains(&expect),
            "{}: {err}",
            path.display()
        );
        seen += 1;
    }
    assert!(seen >= 15, "only {seen} bad policies");
}

#[test]
fn missing_file_is_bad_input() {
    coordinator()
        .args(["policy", "check", "no-such-policy.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read policy file"));
}

#[test]
fn check_prints_the_policy_id() {
    let path = data("policies/regtest-exchange.toml");
    let id = VaultPolicy::load(&path).unwrap().id().to_string();
    coordinator()
        .args(["policy", "check"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains(id.clone()));
    let out = coordinator()
        .args(["policy", "check", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["policy_id"], id);
    assert_eq!(v["valid"], true);
}

#[test]
fn show_lists_wallets_rules_and_approvers() {
    for file in [
        "regtest-exchange",
        "regtest-taproot",
        "regtest-recovery",
        "mainnet-template",
    ] {
        let path = data(&format!("policies/{file}.toml"));
        let policy = VaultPolicy::load(&path).unwrap();
        coordinator()
            .args(["policy", "show"])
            .arg(&path)
            .assert()
            .success()
            .stdout(predicate::str::contains(policy.id().to_string()))
            .stdout(predicate::str::contains("cold wallet: 3-of-5"))
            .stdout(predicate::str::contains("hot wallet: 2-of-3"))
            .stdout(predicate::str::contains("2 approvals from 2 departments"))
            .stdout(predicate::str::contains("sato"));
    }
}

#[test]
fn descriptors_are_printed_with_checksums_in_text_and_json() {
    let path = data("policies/regtest-taproot.toml");
    let policy = VaultPolicy::load(&path).unwrap();
    let cold = policy.descriptor(custodia::policy::Tier::Cold).to_string();
    assert!(cold.starts_with("tr(") && cold.contains("multi_a(3,") && cold.contains('#'));
    coordinator()
        .args(["policy", "descriptors"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains(cold.clone()));
    let out = coordinator()
        .args(["policy", "descriptors", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["wallets"][0]["tier"], "cold");
    assert_eq!(v["wallets"][0]["descriptor"], cold);
    assert!(v["wallets"][1]["receive_descriptor"]
        .as_str()
        .unwrap()
        .contains("/0/*"));
    assert!(v["wallets"][1]["change_descriptor"]
        .as_str()
        .unwrap()
        .contains("/1/*"));
}

/// A key whose origin names another network's coin type, and a wallet with two
/// keys of one seed, are refused with their typed problems.
#[test]
fn keys_of_another_network_or_of_one_seed_are_refused_by_validation() {
    use custodia::policy::{PolicyError, Problem};
    let read = |name: &str| {
        let text =
            std::fs::read_to_string(data(&format!("tests/data/policies/bad/{name}"))).unwrap();
        VaultPolicy::from_toml(&text).unwrap_err()
    };
    match read("coin-type-of-another-network.toml") {
        PolicyError::Invalid {
            field,
            problem: Problem::CoinType { expected: 1, .. },
        } => assert_eq!(field, "keys.cold-1.xpub"),
        other => panic!("{other:?}"),
    }
    match read("two-keys-of-one-seed-in-a-wallet.toml") {
        PolicyError::Invalid {
            field,
            problem: Problem::SharedSeedInWallet(a, b, _),
        } => assert_eq!(
            (field.as_str(), a.as_str(), b.as_str()),
            ("wallets.cold.keys", "cold-1", "cold-2")
        ),
        other => panic!("{other:?}"),
    }
}

//! custodia-auditor against a real regtest node: balances come from the UTXO
//! set, a low cold ratio is a finding (exit 1), and edited logs are caught.
#![cfg(feature = "online")]

mod common;

use std::path::Path;

use assert_cmd::Command;
use custodia::policy::{Chain, Tier, VaultPolicy};
use predicates::prelude::*;

fn policy_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/regtest-exchange.toml")
}

fn balances(node: &common::Node) -> Command {
    let mut cmd = Command::cargo_bin("custodia-auditor").unwrap();
    cmd.arg("balances")
        .arg("--policy")
        .arg(policy_path())
        .arg("--rpc-url")
        .arg(node.rpc_url())
        .arg("--rpc-cookie")
        .arg(node.cookie_file())
        .env_remove("CUSTODIA_RPC_URL")
        .env_remove("CUSTODIA_RPC_COOKIE");
    cmd
}

#[test]
fn balances_come_from_the_chain_and_a_low_cold_ratio_is_a_finding() {
    let node = common::Node::start();
    let policy = VaultPolicy::load(&policy_path()).unwrap();
    let addr = |tier: Tier, chain: Chain, i: u32| {
        format!(
            "addr({})",
            policy.descriptor(tier).address(chain, i, policy.network())
        )
    };
    // 2 × 50 BTC cold (one on the last change address the policy allows),
    // then mature.
    let max = policy.rules().addresses().max_index();
    node.mine_to_descriptor(1, &addr(Tier::Cold, Chain::Receive, 0));
    node.mine_to_descriptor(1, &addr(Tier::Cold, Chain::Change, max));
    node.mine_elsewhere(100);

    let out = balances(&node)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["tiers"][0]["sat"], 10_000_000_000u64);
    assert_eq!(report["tiers"][1]["sat"], 0);
    assert_eq!(report["ratio_ok"], true);
    assert_eq!(report["policy_id"], policy.id().to_string());
    assert_eq!(report["last_index"], max);

    // 50 BTC hot makes the cold share 66.67 %, below the 80 % minimum.
    node.mine_to_descriptor(1, &addr(Tier::Hot, Chain::Receive, 3));
    balances(&node)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "cold ratio 66.67% (minimum 80%): FINDING",
        ));
}

#[test]
fn balances_without_a_node_is_an_io_failure() {
    let mut cmd = Command::cargo_bin("custodia-auditor").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cookie = dir.path().join(".cookie");
    std::fs::write(&cookie, "__cookie__:x").unwrap();
    cmd.args(["balances", "--rpc-url", "http://127.0.0.1:9"])
        .arg("--policy")
        .arg(policy_path())
        .arg("--rpc-cookie")
        .arg(&cookie)
        .assert()
        .code(3);
}

#[test]
fn log_verify_names_the_edited_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let log = custodia::audit::EventLog::new(&path);
    for released in 0..3 {
        let abandoned = custodia::audit::Abandoned {
            policy_id: custodia::policy::PolicyId::from_bytes([1; 32]),
            txid: bitcoin::hashes::Hash::from_byte_array([2; 32]),
            released,
        };
        log.append(&custodia::audit::Event::Abandon(abandoned))
            .unwrap();
    }
    Command::cargo_bin("custodia-auditor")
        .unwrap()
        .args(["log", "verify"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains("3 entries"));
    let text =
        std::fs::read_to_string(&path)
            .unwrap()
            .replacen("\"released\":1", "\"released\":7", 1);
    std::fs::write(&path, text).unwrap();
    Command::cargo_bin("custodia-auditor")
        .unwrap()
        .args(["log", "verify"])
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("line 2"));
}

//! The coordinator end to end against a real regtest bitcoind: init, fund,
//! sync, balances and ratio, proposals, approvals, signatures, combine,
//! finalize, broadcast, the event log, reorgs and bad input.
#![cfg(feature = "online")]

mod common;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use assert_cmd::Command;
use bitcoin::bip32::Xpriv;
use bitcoin::secp256k1::{Keypair, Secp256k1, SecretKey};
use bitcoin::{Network, Psbt};
use custodia::policy::{ScriptKind, Tier, VaultPolicy};
use custodia::psbt::approvals::{add_approval, sign_approval};
use custodia::psbt::Movement;
use serde_json::{json, Value};

const POLICY: &str = "policies/regtest-exchange.toml";

/// A coordinator data dir wired to a node.
struct Coord<'a> {
    node: &'a common::Node,
    dir: tempfile::TempDir,
}

impl<'a> Coord<'a> {
    fn new(node: &'a common::Node) -> Self {
        Coord {
            node,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("coordinator")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("custodia-coordinator").unwrap();
        c.env_remove("CUSTODIA_COORDINATOR_DIR")
            .env_remove("CUSTODIA_RPC_URL")
            .env_remove("CUSTODIA_RPC_COOKIE")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--rpc-url")
            .arg(self.node.rpc_url())
            .arg("--rpc-cookie")
            .arg(self.node.cookie_file());
        c
    }

    /// Runs a command that must succeed and returns its stdout as JSON.
    fn json(&self, args: &[&str]) -> Value {
        let out = self.cmd().args(args).arg("--json").output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Runs a command that must fail with `code`; returns stderr.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.cmd().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        stderr
    }

    fn balance(&self) -> Value {
        self.json(&["sync"]);
        self.json(&["balance"])
    }
}

fn sat(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an amount: {v}"))
}

fn init_and_fund(node: &common::Node, coinbases: u64) -> Coord<'_> {
    let c = Coord::new(node);
    let init = c.json(&["init", POLICY]);
    assert_eq!(init["action"], "created");
    for _ in 0..coinbases {
        let a = c.json(&["address", "--tier", "cold"]);
        node.mine_to_descriptor(1, a["descriptor"].as_str().unwrap());
    }
    node.mine_elsewhere(100);
    c
}

#[test]
fn init_fund_sync_balance() {
    let node = common::Node::start();
    let c = init_and_fund(&node, 2);
    let b = c.balance();
    assert_eq!(sat(&b["cold"]["confirmed_sat"]), 100 * 100_000_000);
    assert_eq!(sat(&b["hot"]["total_sat"]), 0);
    assert_eq!(b["ratio_ok"], true);
    let utxos = c.json(&["utxos", "--tier", "cold"]);
    assert_eq!(utxos.as_array().unwrap().len(), 2);
    let status = c.json(&["status"]);
    assert_eq!(status["node"]["chain"], "regtest");
    assert_eq!(status["node"]["blocks"], 102);
    assert_eq!(status["blocks_behind"], 0);
    // Addresses are not handed out twice, also across runs.
    let a1 = c.json(&["address", "--tier", "hot"]);
    let a2 = c.json(&["address", "--tier", "hot"]);
    assert_ne!(a1["address"], a2["address"]);
    assert_eq!(sat(&a2["index"]), sat(&a1["index"]) + 1);
    // The first line of the log records the policy.
    let log = c.json(&["log", "verify"]);
    assert_eq!(log["valid"], true);
    assert_eq!(log["entries"], 1);
}

#[test]
fn reorg_is_survived() {
    let node = common::Node::start();
    let c = init_and_fund(&node, 1);
    // A coinbase to cold at the tip, then the tip is replaced by a longer chain without it.
    let a = c.json(&["address", "--tier", "cold"]);
    let blocks = node.mine_to_descriptor(1, a["descriptor"].as_str().unwrap());
    let b = c.balance();
    assert_eq!(sat(&b["cold"]["total_sat"]), 100 * 100_000_000);
    node.call("invalidateblock", &[json!(blocks[0])]);
    node.mine_elsewhere(3);
    let b = c.balance();
    assert_eq!(sat(&b["cold"]["total_sat"]), 50 * 100_000_000);
    let status = c.json(&["status"]);
    assert_eq!(status["wallet_tips"][0]["hash"], status["node"]["tip_hash"]);
}

fn test_keys() -> toml::Value {
    toml::from_str(&std::fs::read_to_string("tests/data/test-keys.toml").unwrap()).unwrap()
}

/// The cold descriptors (receive, change) with the private key of `key_id`,
/// as a key holder's machine would hold it; for Core's descriptorprocesspsbt.
fn private_descriptors(policy: &VaultPolicy, tier: Tier, key_id: &str) -> Vec<String> {
    let keys = test_keys();
    let entry = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"].as_str() == Some(key_id))
        .unwrap();
    let mnemonic = bip39::Mnemonic::parse(entry["mnemonic"].as_str().unwrap()).unwrap();
    let secp = Secp256k1::new();
    let master = Xpriv::new_master(Network::Regtest, &mnemonic.to_seed("")).unwrap();
    let path = custodia::signer::account::account_path(Network::Regtest, ScriptKind::Wsh, 0);
    let xprv = master.derive_priv(&secp, &path).unwrap();
    let xpub = bitcoin::bip32::Xpub::from_priv(&secp, &xprv);
    let multipath = policy.descriptor(tier).multipath().to_string();
    let text = multipath.split('#').next().unwrap();
    assert!(
        text.contains(&xpub.to_string()),
        "{key_id} is not in the {tier} wallet"
    );
    let with_private = text.replace(&xpub.to_string(), &xprv.to_string());
    ["0", "1"]
        .iter()
        .map(|chain| with_private.replace("<0;1>", chain))
        .collect()
}

fn approver_keypair(id: &str) -> Keypair {
    let keys = test_keys();
    let entry = keys["approvers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"].as_str() == Some(id))
        .unwrap();
    let secret = SecretKey::from_str(entry["secret_hex"].as_str().unwrap()).unwrap();
    Keypair::from_secret_key(&Secp256k1::new(), &secret)
}

fn read_psbt(path: &Path) -> Psbt {
    Psbt::from_str(std::fs::read_to_string(path).unwrap().trim()).unwrap()
}

/// A key holder signs with Core's descriptorprocesspsbt.
fn sign_with_core(
    node: &common::Node,
    policy: &VaultPolicy,
    tier: Tier,
    key: &str,
    input: &Path,
    out: &Path,
) {
    let psbt = std::fs::read_to_string(input).unwrap();
    let descs: Vec<Value> = private_descriptors(policy, tier, key)
        .into_iter()
        .map(|d| json!(node.with_checksum(&d)))
        .collect();
    let r = node.call(
        "descriptorprocesspsbt",
        &[
            json!(psbt.trim()),
            json!(descs),
            json!("ALL"),
            json!(true),
            json!(false),
        ],
    );
    std::fs::write(out, r["psbt"].as_str().unwrap()).unwrap();
}

/// An approver approves with the psbt module's API.
fn approve(policy: &VaultPolicy, approver: &str, movement: Movement, input: &Path, out: &Path) {
    let mut psbt = read_psbt(input);
    let txid = psbt.unsigned_tx.compute_txid();
    let id = approver.parse().unwrap();
    let approval = sign_approval(policy, txid, movement, &id, &approver_keypair(approver));
    add_approval(policy, &mut psbt, &approval).unwrap();
    std::fs::write(out, psbt.to_string()).unwrap();
}

#[test]
fn cold_to_hot_transfer_end_to_end() {
    let node = common::Node::start();
    let policy = VaultPolicy::load(Path::new(POLICY)).unwrap();
    let c = init_and_fund(&node, 2);
    let b = c.balance();
    assert_eq!(sat(&b["cold"]["total_sat"]), 100 * 100_000_000);

    // Over the rule's 5 BTC: refused before anyone is asked to sign.
    let p = c.path("too-much.psbt");
    let err = c.fails(
        &[
            "propose",
            "transfer",
            "--from",
            "cold",
            "--to",
            "hot",
            "--amount",
            "6 BTC",
            "-o",
            p.to_str().unwrap(),
        ],
        1,
    );
    assert!(err.contains("amount"), "{err}");
    assert!(!p.exists());

    let p = c.path("transfer.psbt");
    let prop = c.json(&[
        "propose",
        "transfer",
        "--from",
        "cold",
        "--to",
        "hot",
        "--amount",
        "5 BTC",
        "--fee-rate",
        "2",
        "-o",
        p.to_str().unwrap(),
    ]);
    assert_eq!(prop["proposed"], true);
    let txid = prop["proposal"]["txid"].as_str().unwrap().to_owned();
    assert_eq!(prop["proposal"]["movement"], "cold-to-hot");
    assert_eq!(sat(&prop["proposal"]["amount_sat"]), 5 * 100_000_000);
    // Every vault output carries its derivation; segwit inputs their previous transaction.
    let psbt = read_psbt(&p);
    assert!(psbt.outputs.iter().all(|o| !o.bip32_derivation.is_empty()));
    assert!(psbt
        .inputs
        .iter()
        .all(|i| i.non_witness_utxo.is_some() && !i.bip32_derivation.is_empty()));
    // The output file is never overwritten.
    c.fails(
        &[
            "propose",
            "transfer",
            "--from",
            "cold",
            "--to",
            "hot",
            "--amount",
            "1 BTC",
            "-o",
            p.to_str().unwrap(),
        ],
        2,
    );

    let st = c.json(&["approvals", p.to_str().unwrap()]);
    assert_eq!(st["approvals_required"], true);
    assert_eq!(st["approved_by"].as_array().unwrap().len(), 0);
    assert_eq!(st["departments_missing"].as_array().unwrap().len(), 3);

    // Approvals from two departments, signatures from three cold key holders.
    let a1 = c.path("a-sato.psbt");
    let a2 = c.path("a-ito.psbt");
    let a3 = c.path("a-suzuki.psbt");
    approve(&policy, "sato", Movement::ColdToHot, &p, &a1);
    approve(&policy, "ito", Movement::ColdToHot, &p, &a2);
    approve(&policy, "suzuki", Movement::ColdToHot, &p, &a3);
    let mut signed = Vec::new();
    for key in ["cold-1", "cold-3", "cold-5"] {
        let out = c.path(&format!("s-{key}.psbt"));
        sign_with_core(&node, &policy, Tier::Cold, key, &p, &out);
        signed.push(out);
    }
    // Two approvers of one department are not enough.
    let st = c.json(&["approvals", a1.to_str().unwrap(), a2.to_str().unwrap()]);
    assert_eq!(st["approved_by"].as_array().unwrap().len(), 2);
    assert_eq!(st["approvals_complete"], false);
    let mut some: Vec<&str> = vec![a1.to_str().unwrap(), a2.to_str().unwrap()];
    some.extend(signed.iter().map(|s| s.to_str().unwrap()));
    let early = c.path("early.hex");
    let mut args = vec!["finalize"];
    args.extend(some.iter().copied());
    args.extend(["-o", early.to_str().unwrap()]);
    let err = c.fails(&args, 1);
    assert!(
        err.contains("approvals") && err.contains("compliance"),
        "{err}"
    );
    assert!(!early.exists());

    let all = c.path("all.psbt");
    let mut args = vec!["combine", a1.to_str().unwrap(), a3.to_str().unwrap()];
    args.extend(signed.iter().map(|s| s.to_str().unwrap()));
    args.extend(["-o", all.to_str().unwrap()]);
    let st = c.json(&args);
    assert_eq!(st["status"]["approvals_complete"], true);
    assert_eq!(st["status"]["signatures_complete"], true);

    let hex = c.path("transfer.hex");
    let fin = c.json(&[
        "finalize",
        all.to_str().unwrap(),
        "-o",
        hex.to_str().unwrap(),
    ]);
    assert_eq!(fin["txid"], txid.as_str());
    let sent = c.json(&["broadcast", hex.to_str().unwrap()]);
    assert_eq!(sent["txid"], txid.as_str());

    let b = c.balance();
    assert_eq!(sat(&b["hot"]["unconfirmed_sat"]), 5 * 100_000_000);
    node.mine_elsewhere(1);
    let b = c.balance();
    assert_eq!(sat(&b["hot"]["confirmed_sat"]), 5 * 100_000_000);
    let cold = sat(&b["cold"]["total_sat"]);
    let fee = 95 * 100_000_000 - cold;
    assert!(fee > 0 && fee < 10_000, "fee {fee}");
    assert_eq!(b["ratio_ok"], true);

    // The log verifies; editing any line makes verification fail naming it.
    let v = c.json(&["log", "verify"]);
    let entries = v["entries"].as_u64().unwrap() as usize;
    let kinds: Vec<String> = std::fs::read_to_string(c.data_dir().join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["event"]["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for kind in [
        "policy",
        "proposal",
        "approval",
        "combine",
        "finalize",
        "broadcast",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "no {kind} event in {kinds:?}"
        );
    }
    let log_path = c.data_dir().join("events.jsonl");
    let original = std::fs::read_to_string(&log_path).unwrap();
    for n in 0..entries {
        let tampered: Vec<String> = original
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i == n {
                    l.replacen("\"event\":{", "\"event\":{\"edited\":true,", 1)
                } else {
                    l.to_owned()
                }
            })
            .collect();
        std::fs::write(&log_path, tampered.join("\n") + "\n").unwrap();
        let err = c.fails(&["log", "verify"], 1);
        assert!(
            err.contains(&format!("line {}", n + 1)),
            "line {}: {err}",
            n + 1
        );
    }
    std::fs::write(&log_path, &original).unwrap();
    c.json(&["log", "verify"]);
}

#[test]
fn transfer_that_breaks_the_cold_ratio_is_refused() {
    let node = common::Node::start();
    let dir = tempfile::tempdir().unwrap();
    let strict = dir.path().join("strict.toml");
    let text = std::fs::read_to_string(POLICY)
        .unwrap()
        .replace("cold_min_percent = 80", "cold_min_percent = 97")
        .replace("hot_target_percent = 10", "hot_target_percent = 2");
    assert!(text.contains("cold_min_percent = 97"));
    std::fs::write(&strict, text).unwrap();
    let c = Coord::new(&node);
    c.json(&["init", strict.to_str().unwrap()]);
    let a = c.json(&["address", "--tier", "cold"]);
    node.mine_to_descriptor(2, a["descriptor"].as_str().unwrap());
    node.mine_elsewhere(100);
    c.balance();
    let p = c.path("p.psbt");
    let err = c.fails(
        &[
            "propose",
            "transfer",
            "--from",
            "cold",
            "--to",
            "hot",
            "--amount",
            "4 BTC",
            "-o",
            p.to_str().unwrap(),
        ],
        1,
    );
    assert!(err.contains("below the minimum of 97%"), "{err}");
    assert!(!p.exists());
    // 2 BTC of 100 keeps 98 % cold.
    c.json(&[
        "propose",
        "transfer",
        "--from",
        "cold",
        "--to",
        "hot",
        "--amount",
        "2 BTC",
        "-o",
        p.to_str().unwrap(),
    ]);
}

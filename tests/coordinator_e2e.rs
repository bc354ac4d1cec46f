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
use custodia::policy::{Tier, VaultPolicy};
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
        self.cmd_at(&self.node.rpc_url())
    }

    /// A command pointed at the node URL `url`.
    fn cmd_at(&self, url: &str) -> Command {
        let mut c = Command::cargo_bin("custodia-coordinator").unwrap();
        c.env_remove("CUSTODIA_COORDINATOR_DIR")
            .env_remove("CUSTODIA_RPC_URL")
            .env_remove("CUSTODIA_RPC_COOKIE")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--rpc-url")
            .arg(url)
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
    // Node settings from config.toml (stored by init), and from the environment.
    let bare = || {
        let mut cmd = Command::cargo_bin("custodia-coordinator").unwrap();
        cmd.env_remove("CUSTODIA_RPC_URL")
            .env_remove("CUSTODIA_RPC_COOKIE")
            .env("CUSTODIA_COORDINATOR_DIR", c.data_dir());
        cmd
    };
    let out = bare().args(["status", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = std::fs::read_to_string(c.data_dir().join("config.toml")).unwrap();
    assert!(config.contains(&node.rpc_url()));
    std::fs::remove_file(c.data_dir().join("config.toml")).unwrap();
    bare().arg("status").assert().code(2);
    let out = bare()
        .env("CUSTODIA_RPC_URL", node.rpc_url())
        .env("CUSTODIA_RPC_COOKIE", node.cookie_file())
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

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
    let status = c.json(&["status"]);
    assert_eq!(status["wallet_tips"][0]["on_node_chain"], false);
    node.mine_elsewhere(3);
    let b = c.balance();
    assert_eq!(sat(&b["cold"]["total_sat"]), 50 * 100_000_000);
    let status = c.json(&["status"]);
    assert_eq!(status["wallet_tips"][0]["hash"], status["node"]["tip_hash"]);
    assert_eq!(status["wallet_tips"][0]["on_node_chain"], true);
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
    let script = policy.wallet(tier).script();
    let path = custodia::signer::account::account_path(Network::Regtest, script, 0);
    let xprv = master.derive_priv(&secp, &path).unwrap();
    let xpub = bitcoin::bip32::Xpub::from_priv(&secp, &xprv);
    let multipath = policy.descriptor(tier).multipath().to_string();
    let text = multipath.split('#').next().unwrap();
    assert!(
        text.contains(&xpub.to_string()),
        "{key_id} is not in the {tier} wallet"
    );
    let with_private = text.replace(&xpub.to_string(), &xprv.to_string());
    [("0", "2"), ("1", "3")]
        .iter()
        .map(|(main, recovery)| {
            with_private
                .replace("<0;1>", main)
                .replace("<2;3>", recovery)
        })
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

    // Over the fee-rate cap of 200 sat/vB: refused too.
    let err = c.fails(
        &[
            "propose",
            "transfer",
            "--from",
            "cold",
            "--to",
            "hot",
            "--amount",
            "1 BTC",
            "--fee-rate",
            "500",
            "-o",
            p.to_str().unwrap(),
        ],
        1,
    );
    assert!(err.contains("fee-rate"), "{err}");
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
    // The node's reason is shown when it refuses; nothing is logged as sent.
    let err = c.fails(&["broadcast", hex.to_str().unwrap()], 1);
    assert!(err.contains("txn-already-in-mempool"), "{err}");

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

const PAYEE_1: &str = "bcrt1qn6y5jd4gp208cx6px2crc48dvkc5k3028w88ml";
const PAYEE_2: &str = "bcrt1qgdkc6pm0dca7gv44juwa0ks43u3qe2jehqn8hu";
const PAYEE_3_NOT_ALLOWED: &str = "bcrt1q4z607574hehmxrjqsvg6v8fmds3dfjpeafc4ua";

/// Signs `psbt` with `keys` of `tier`, combines, finalizes, broadcasts and mines.
fn sign_and_send(
    node: &common::Node,
    c: &Coord,
    policy: &VaultPolicy,
    tier: Tier,
    keys: &[&str],
    psbt: &Path,
) -> String {
    let txid = sign_and_broadcast(node, c, policy, tier, keys, psbt);
    node.mine_elsewhere(1);
    txid
}

/// Like [`sign_and_send`] without mining.
fn sign_and_broadcast(
    node: &common::Node,
    c: &Coord,
    policy: &VaultPolicy,
    tier: Tier,
    keys: &[&str],
    psbt: &Path,
) -> String {
    let name = psbt.file_stem().unwrap().to_str().unwrap().to_owned();
    let mut args = vec!["combine".to_owned()];
    for key in keys {
        let out = c.path(&format!("{name}-{key}.psbt"));
        sign_with_core(node, policy, tier, key, psbt, &out);
        args.push(out.to_str().unwrap().to_owned());
    }
    let combined = c.path(&format!("{name}-all.psbt"));
    let hex = c.path(&format!("{name}.hex"));
    args.extend(["-o".to_owned(), combined.to_str().unwrap().to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    c.json(&args);
    c.json(&[
        "finalize",
        combined.to_str().unwrap(),
        "-o",
        hex.to_str().unwrap(),
    ]);
    let sent = c.json(&["broadcast", hex.to_str().unwrap()]);
    sent["txid"].as_str().unwrap().to_owned()
}

#[test]
fn rebalance_and_hot_payouts() {
    let node = common::Node::start();
    let policy = VaultPolicy::load(Path::new(POLICY)).unwrap();
    let c = init_and_fund(&node, 1);
    let hot = c.json(&["address", "--tier", "hot"]);
    node.mine_to_descriptor(1, hot["descriptor"].as_str().unwrap());
    node.mine_elsewhere(100);
    let b = c.balance();
    assert_eq!(sat(&b["hot"]["total_sat"]), 50 * 100_000_000);
    assert_eq!(b["ratio_ok"], false);
    let text = c.cmd().arg("balance").output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("BELOW MINIMUM"));

    // Hot holds half; the target is 10 %: move 40 BTC hot → cold, no approvals needed.
    let p = c.path("rebalance.psbt");
    let r = c.json(&[
        "propose",
        "rebalance",
        "--fee-rate",
        "2",
        "-o",
        p.to_str().unwrap(),
    ]);
    assert_eq!(r["proposal"]["movement"], "hot-to-cold");
    assert_eq!(sat(&r["proposal"]["amount_sat"]), 40 * 100_000_000);
    assert_eq!(r["proposal"]["approvals_needed"], 0);
    sign_and_send(&node, &c, &policy, Tier::Hot, &["hot-1", "hot-3"], &p);
    let b = c.balance();
    assert_eq!(sat(&b["cold"]["total_sat"]), 90 * 100_000_000);
    assert_eq!(b["ratio_ok"], true);
    let r = c.json(&[
        "propose",
        "rebalance",
        "-o",
        c.path("nothing.psbt").to_str().unwrap(),
    ]);
    assert_eq!(r["proposed"], false);
    assert!(!c.path("nothing.psbt").exists());

    // Payouts: two allowlisted payees in one transaction.
    let csv = c.path("payouts.csv");
    std::fs::write(
        &csv,
        format!("address,amount\n{PAYEE_1},0.5 BTC\n{PAYEE_2},25000000 sat\n"),
    )
    .unwrap();
    let p = c.path("payout.psbt");
    let r = c.json(&[
        "propose",
        "payout",
        "--csv",
        csv.to_str().unwrap(),
        "--fee-rate",
        "3",
        "-o",
        p.to_str().unwrap(),
    ]);
    assert_eq!(r["proposal"]["movement"], "hot-payout");
    assert_eq!(sat(&r["proposal"]["amount_sat"]), 75_000_000);
    let before_hot = sat(&b["hot"]["total_sat"]);
    sign_and_send(&node, &c, &policy, Tier::Hot, &["hot-1", "hot-2"], &p);
    let b = c.balance();
    let fee = before_hot - 75_000_000 - sat(&b["hot"]["total_sat"]);
    assert!(fee > 0 && fee < 10_000, "fee {fee}");
    let paid = node.call(
        "scantxoutset",
        &[
            json!("start"),
            json!([format!("addr({PAYEE_1})"), format!("addr({PAYEE_2})")]),
        ],
    );
    assert_eq!(paid["total_amount"].as_f64().unwrap(), 0.75);

    // Refused by the shared rules: an address not on the allowlist, an amount over the cap.
    for (row, words) in [
        (format!("{PAYEE_3_NOT_ALLOWED},0.1 BTC\n"), "allowlist"),
        (format!("{PAYEE_1},2 BTC\n"), "amount"),
    ] {
        std::fs::write(&csv, &row).unwrap();
        let out = c.path("refused.psbt");
        let err = c.fails(
            &[
                "propose",
                "payout",
                "--csv",
                csv.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ],
            1,
        );
        assert!(err.contains(words), "{row}: {err}");
        assert!(!out.exists());
    }
    // Bad rows: exit 2 naming the line.
    std::fs::write(&csv, format!("{PAYEE_1},0.1 BTC\n{PAYEE_1},0.2 BTC\n")).unwrap();
    let err = c.fails(
        &[
            "propose",
            "payout",
            "--csv",
            csv.to_str().unwrap(),
            "-o",
            c.path("x.psbt").to_str().unwrap(),
        ],
        2,
    );
    assert!(err.contains("line 2") && err.contains("twice"), "{err}");
    c.json(&["log", "verify"]);
}

fn dead_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

#[test]
fn node_down_wrong_network_and_changed_policy() {
    let node = common::Node::start();
    let c = Coord::new(&node);
    // Node down at init: exit 3, clear message, nothing written.
    let out = c
        .cmd_at(&dead_url())
        .args(["init", POLICY])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach bitcoind at http://127.0.0.1:") && err.contains("--rpc-url"),
        "{err}"
    );
    assert!(!c.data_dir().exists());

    c.json(&["init", POLICY]);
    c.json(&["sync"]);
    let sync_state = std::fs::read(c.data_dir().join("sync.json")).unwrap();
    for cmd in ["status", "sync"] {
        let out = c.cmd_at(&dead_url()).arg(cmd).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{cmd}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach bitcoind"));
    }
    assert_eq!(
        std::fs::read(c.data_dir().join("sync.json")).unwrap(),
        sync_state
    );

    // A node on another network than the policy: refused, exit 3.
    let dir = tempfile::tempdir().unwrap();
    let signet = dir.path().join("signet.toml");
    let text = std::fs::read_to_string(POLICY)
        .unwrap()
        .replace("network = \"regtest\"", "network = \"signet\"");
    let start = text.find("allowlist = [").unwrap();
    let end = start + text[start..].find(']').unwrap() + 1;
    std::fs::write(
        &signet,
        format!("{}allow_any = true{}", &text[..start], &text[end..]),
    )
    .unwrap();
    let other = Coord::new(&node);
    let err = other.fails(&["init", signet.to_str().unwrap()], 3);
    assert!(
        err.contains("runs on `regtest`") && err.contains("signet"),
        "{err}"
    );
    assert!(!other.data_dir().exists());

    // A changed policy is refused, naming the change, unless --replace-policy.
    let changed = dir.path().join("changed.toml");
    std::fs::write(
        &changed,
        std::fs::read_to_string(POLICY)
            .unwrap()
            .replace("max_amount = \"5 BTC\"", "max_amount = \"7 BTC\""),
    )
    .unwrap();
    let err = c.fails(&["init", changed.to_str().unwrap()], 2);
    assert!(
        err.contains("- max_amount = \"5 BTC\"")
            && err.contains("+ max_amount = \"7 BTC\"")
            && err.contains("--replace-policy"),
        "{err}"
    );
    let r = c.json(&["init", changed.to_str().unwrap(), "--replace-policy"]);
    assert_eq!(r["action"], "replaced");
    let v = c.json(&["log", "verify"]);
    assert_eq!(v["entries"], 2);
    let r = c.json(&["init", changed.to_str().unwrap()]);
    assert_eq!(r["action"], "unchanged");
}

#[test]
fn psbts_of_other_vaults_and_other_transactions_are_refused() {
    let node = common::Node::start();
    let c = init_and_fund(&node, 2);
    c.balance();
    let p1 = c.path("one.psbt");
    let p2 = c.path("two.psbt");
    for (p, amount) in [(&p1, "1 BTC"), (&p2, "2 BTC")] {
        c.json(&[
            "propose",
            "transfer",
            "--from",
            "cold",
            "--to",
            "hot",
            "--amount",
            amount,
            "-o",
            p.to_str().unwrap(),
        ]);
    }
    // Each proposal reserved one of the two coins: a third finds none free.
    let coins = c.json(&["utxos"]);
    assert!(coins
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["reserved"] == true));
    let p3 = c.path("three.psbt");
    let third = [
        "propose",
        "transfer",
        "--from",
        "cold",
        "--to",
        "hot",
        "--amount",
        "1 BTC",
        "-o",
        p3.to_str().unwrap(),
    ];
    let err = c.fails(&third, 1);
    assert!(err.contains("reserved by pending proposals"), "{err}");
    let a = c.json(&["abandon", p2.to_str().unwrap()]);
    assert_eq!(a["released"], 1);
    c.json(&third);

    let out = c.path("mixed.psbt");
    let err = c.fails(
        &[
            "combine",
            p1.to_str().unwrap(),
            p2.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        2,
    );
    assert!(
        err.contains("only copies of the same proposal can be combined"),
        "{err}"
    );
    assert!(!out.exists());

    // A binary PSBT stays binary when combined.
    let binary = c.path("one.bin.psbt");
    std::fs::write(&binary, read_psbt(&p1).serialize()).unwrap();
    let merged = c.path("merged.bin.psbt");
    c.json(&[
        "combine",
        binary.to_str().unwrap(),
        p1.to_str().unwrap(),
        "-o",
        merged.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&merged).unwrap();
    assert!(bytes.starts_with(b"psbt\xff"));
    assert_eq!(Psbt::deserialize(&bytes).unwrap(), read_psbt(&p1));

    // The same transaction named for another vault.
    let mut psbt = read_psbt(&p1);
    psbt.proprietary
        .insert(custodia::psbt::fields::policy_id_key(), vec![7; 32]);
    let foreign = c.path("foreign.psbt");
    std::fs::write(&foreign, psbt.to_string()).unwrap();
    for args in [
        vec!["approvals", foreign.to_str().unwrap()],
        vec![
            "combine",
            p1.to_str().unwrap(),
            foreign.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        vec![
            "finalize",
            foreign.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    ] {
        let err = c.fails(&args, 2);
        assert!(
            err.contains("belongs to vault policy 0707"),
            "{args:?}: {err}"
        );
    }
    // Not a PSBT at all.
    std::fs::write(&foreign, "hello").unwrap();
    c.fails(&["approvals", foreign.to_str().unwrap()], 2);
    // A PSBT that is not finalized cannot be broadcast.
    let err = c.fails(&["broadcast", p1.to_str().unwrap()], 1);
    assert!(err.contains("not finalized"), "{err}");
}

/// Taproot (multi_a) and a wsh policy with a timelocked recovery path: the
/// coordinator builds, Core signs with three cold keys, the coordinator
/// finalizes and broadcasts.
#[test]
fn taproot_and_recovery_policies_transfer() {
    for file in [
        "policies/regtest-taproot.toml",
        "policies/regtest-recovery.toml",
    ] {
        let node = common::Node::start();
        let policy = VaultPolicy::load(Path::new(file)).unwrap();
        let c = Coord::new(&node);
        c.json(&["init", file]);
        let a = c.json(&["address", "--tier", "cold"]);
        node.mine_to_descriptor(2, a["descriptor"].as_str().unwrap());
        node.mine_elsewhere(100);
        assert_eq!(
            sat(&c.balance()["cold"]["total_sat"]),
            100 * 100_000_000,
            "{file}"
        );
        let p = c.path("t.psbt");
        c.json(&[
            "propose",
            "transfer",
            "--from",
            "cold",
            "--to",
            "hot",
            "--amount",
            "3 BTC",
            "--fee-rate",
            "2",
            "-o",
            p.to_str().unwrap(),
        ]);
        let psbt = read_psbt(&p);
        for o in &psbt.outputs {
            assert!(
                !o.bip32_derivation.is_empty() || !o.tap_key_origins.is_empty(),
                "{file}: an output without origin"
            );
        }
        let a1 = c.path("a1.psbt");
        let a2 = c.path("a2.psbt");
        approve(&policy, "sato", Movement::ColdToHot, &p, &a1);
        approve(&policy, "tanaka", Movement::ColdToHot, &p, &a2);
        let approved = c.path("approved.psbt");
        c.json(&[
            "combine",
            a1.to_str().unwrap(),
            a2.to_str().unwrap(),
            "-o",
            approved.to_str().unwrap(),
        ]);
        // cold-1 and cold-2 also hold recovery keys: with the recovery policy
        // Core signs with both of each (two signatures per file), but only
        // main-path keys count.
        let (s1, s2) = (c.path("s1.psbt"), c.path("s2.psbt"));
        sign_with_core(&node, &policy, Tier::Cold, "cold-1", &approved, &s1);
        sign_with_core(&node, &policy, Tier::Cold, "cold-2", &approved, &s2);
        if file.contains("recovery") {
            assert_eq!(read_psbt(&s1).inputs[0].partial_sigs.len(), 2);
        }
        let st = c.json(&["approvals", s1.to_str().unwrap(), s2.to_str().unwrap()]);
        assert_eq!(st["inputs"][0]["signatures"], 2, "{file}");
        assert_eq!(st["signatures_complete"], false, "{file}");
        sign_and_send(
            &node,
            &c,
            &policy,
            Tier::Cold,
            &["cold-2", "cold-3", "cold-4"],
            &approved,
        );
        let b = c.balance();
        assert_eq!(sat(&b["hot"]["confirmed_sat"]), 3 * 100_000_000, "{file}");
        c.json(&["log", "verify"]);
    }
}

#[test]
fn start_height_skips_older_blocks() {
    let node = common::Node::start();
    let policy = VaultPolicy::load(Path::new(POLICY)).unwrap();
    // Coins paid to the vault at height 1, before its birth height.
    let early = policy
        .descriptor(Tier::Cold)
        .at(custodia::policy::Chain::Receive, 0);
    node.mine_to_descriptor(1, &early.to_string());
    node.mine_elsewhere(110);
    let c = Coord::new(&node);
    c.json(&["init", POLICY, "--start-height", "100"]);
    let b = c.balance();
    assert_eq!(sat(&b["cold"]["total_sat"]), 0);
    let status = c.json(&["status"]);
    assert_eq!(status["wallet_tips"][0]["height"], 111);
    assert_eq!(status["wallet_tips"][1]["height"], 111);
    // From genesis they are found.
    let full = Coord::new(&node);
    full.json(&["init", POLICY]);
    assert_eq!(sat(&full.balance()["cold"]["total_sat"]), 50 * 100_000_000);
}

#[test]
fn consolidation_of_cold_coins() {
    let node = common::Node::start();
    let policy = VaultPolicy::load(Path::new(POLICY)).unwrap();
    let c = init_and_fund(&node, 3);
    // No `sync` here: proposing syncs first.
    let p = c.path("consolidate.psbt");
    let r = c.json(&[
        "propose",
        "consolidate",
        "--tier",
        "cold",
        "--fee-rate",
        "1",
        "-o",
        p.to_str().unwrap(),
    ]);
    assert_eq!(r["proposal"]["movement"], "cold-consolidation");
    assert_eq!(r["proposal"]["approvals_needed"], 0);
    assert_eq!(read_psbt(&p).inputs.len(), 3);
    sign_and_send(
        &node,
        &c,
        &policy,
        Tier::Cold,
        &["cold-1", "cold-2", "cold-4"],
        &p,
    );
    let b = c.balance();
    let coins = c.json(&["utxos", "--tier", "cold"]);
    assert_eq!(coins.as_array().unwrap().len(), 1);
    let fee = 150 * 100_000_000 - sat(&b["cold"]["total_sat"]);
    assert!(fee > 0 && fee < 5_000, "fee {fee}");
    let r = c.json(&[
        "propose",
        "consolidate",
        "--tier",
        "cold",
        "-o",
        c.path("again.psbt").to_str().unwrap(),
    ]);
    assert_eq!(r["proposed"], false);
}

/// A cold→hot transfer sent at 1 sat/vB is replaced at 20 sat/vB: new
/// approvals, new signatures, the replacement confirms, the hot wallet gets
/// the amount once.
#[test]
fn fee_bump_replaces_a_stuck_transfer() {
    let node = common::Node::start();
    let policy = VaultPolicy::load(Path::new(POLICY)).unwrap();
    let c = init_and_fund(&node, 2);
    c.balance();
    let send_approved = |p: &Path, name: &str| {
        let (a1, a2, approved) = (
            c.path(&format!("{name}-a1.psbt")),
            c.path(&format!("{name}-a2.psbt")),
            c.path(&format!("{name}-approved.psbt")),
        );
        approve(&policy, "ito", Movement::ColdToHot, p, &a1);
        approve(&policy, "tanaka", Movement::ColdToHot, p, &a2);
        c.json(&[
            "combine",
            a1.to_str().unwrap(),
            a2.to_str().unwrap(),
            "-o",
            approved.to_str().unwrap(),
        ]);
        sign_and_broadcast(
            &node,
            &c,
            &policy,
            Tier::Cold,
            &["cold-1", "cold-2", "cold-3"],
            &approved,
        )
    };
    let slow = c.path("slow.psbt");
    c.json(&[
        "propose",
        "transfer",
        "--from",
        "cold",
        "--to",
        "hot",
        "--amount",
        "2 BTC",
        "--fee-rate",
        "1",
        "-o",
        slow.to_str().unwrap(),
    ]);
    let stuck = send_approved(&slow, "slow");
    assert_eq!(sat(&c.balance()["hot"]["unconfirmed_sat"]), 2 * 100_000_000);

    let fast = c.path("fast.psbt");
    let r = c.json(&[
        "propose",
        "bump",
        "--txid",
        &stuck,
        "--fee-rate",
        "20",
        "-o",
        fast.to_str().unwrap(),
    ]);
    assert_eq!(r["proposal"]["replaces"], stuck.as_str());
    assert_eq!(r["proposal"]["movement"], "cold-to-hot");
    assert_eq!(r["proposal"]["approvals_needed"], 2);
    assert!(sat(&r["proposal"]["fee_sat"]) > 20 * 200);
    let replacement = send_approved(&fast, "fast");
    assert_ne!(replacement, stuck);
    node.mine_elsewhere(1);
    let b = c.balance();
    assert_eq!(sat(&b["hot"]["confirmed_sat"]), 2 * 100_000_000);
    assert_eq!(sat(&b["hot"]["unconfirmed_sat"]), 0);
    assert_eq!(sat(&b["cold"]["unconfirmed_sat"]), 0);
    let tx = node.call("getrawtransaction", &[json!(replacement), json!(true)]);
    assert!(tx["confirmations"].as_u64().unwrap() >= 1);
    c.json(&["log", "verify"]);
}

/// custodia-signer on data dir `home` inside the coordinator's scratch dir.
fn signer(c: &Coord, home: &str) -> Command {
    let pass = c.path("signer-pass");
    if !pass.exists() {
        private_file(&pass, "correct horse battery staple");
    }
    let mut cmd = Command::cargo_bin("custodia-signer").unwrap();
    cmd.env_remove("CUSTODIA_SIGNER_DIR")
        .arg("--data-dir")
        .arg(c.path(home))
        .arg("--passphrase-file")
        .arg(pass);
    cmd
}

fn private_file(path: &Path, content: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("{content}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn test_entry(section: &str, id: &str, field: &str) -> String {
    test_keys()[section]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"].as_str() == Some(id))
        .unwrap()[field]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A key holder's signer: seed restored from the test words, policy registered.
fn key_holder(c: &Coord, key: &str, policy: &str) {
    let words = c.path(&format!("{key}.words"));
    private_file(&words, &test_entry("keys", key, "mnemonic"));
    signer(c, key)
        .args(["restore", "--network", "regtest", "--words-file"])
        .arg(&words)
        .assert()
        .success();
    signer(c, key)
        .args(["register", policy, "--yes"])
        .assert()
        .success();
}

/// An approver's machine: approval key imported, policy registered.
fn approver_machine(c: &Coord, id: &str, policy: &str) {
    let secret = c.path(&format!("{id}.secret"));
    private_file(&secret, &test_entry("approvers", id, "secret_hex"));
    signer(c, id)
        .args(["approver", "import", "--id", id, "--secret-file"])
        .arg(&secret)
        .assert()
        .success();
    signer(c, id)
        .args(["register", policy, "--yes"])
        .assert()
        .success();
}

/// The whole flow with custodia's own signer program: approvals and
/// signatures come back as files, the coordinator combines, finalizes and
/// broadcasts; a key holder refuses the transfer before it is approved.
#[test]
fn transfer_and_payout_with_custodia_signers() {
    let node = common::Node::start();
    let c = init_and_fund(&node, 2);
    c.balance();
    for key in ["cold-1", "cold-2", "cold-4", "hot-1", "hot-3"] {
        key_holder(&c, key, POLICY);
    }
    for id in ["sato", "tanaka"] {
        approver_machine(&c, id, POLICY);
    }
    let p = c.path("transfer.psbt");
    c.json(&[
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
    ]);

    // Before approvals a key holder refuses: exit 1, nothing written.
    let refused = c.path("refused.psbt");
    signer(&c, "cold-1")
        .arg("sign")
        .arg(&p)
        .arg("-o")
        .arg(&refused)
        .arg("--yes")
        .assert()
        .code(1);
    assert!(!refused.exists());

    let (a1, a2) = (c.path("t-sato.psbt"), c.path("t-tanaka.psbt"));
    signer(&c, "sato")
        .arg("approve")
        .arg(&p)
        .args(["--approver", "sato", "--yes", "-o"])
        .arg(&a1)
        .assert()
        .success();
    signer(&c, "tanaka")
        .arg("approve")
        .arg(&p)
        .args(["--approver", "tanaka", "--yes", "-o"])
        .arg(&a2)
        .assert()
        .success();
    let approved = c.path("approved.psbt");
    let st = c.json(&[
        "combine",
        a1.to_str().unwrap(),
        a2.to_str().unwrap(),
        "-o",
        approved.to_str().unwrap(),
    ]);
    assert_eq!(st["status"]["approvals_complete"], true);
    assert_eq!(st["status"]["signatures_complete"], false);

    let mut signed = Vec::new();
    for key in ["cold-1", "cold-2", "cold-4"] {
        let out = c.path(&format!("t-{key}.psbt"));
        signer(&c, key)
            .arg("sign")
            .arg(&approved)
            .arg("-o")
            .arg(&out)
            .arg("--yes")
            .assert()
            .success();
        signed.push(out);
    }
    let all = c.path("t-all.psbt");
    let mut args = vec!["combine"];
    args.extend(signed.iter().map(|s| s.to_str().unwrap()));
    args.extend(["-o", all.to_str().unwrap()]);
    c.json(&args);
    let hex = c.path("t.hex");
    c.json(&[
        "finalize",
        all.to_str().unwrap(),
        "-o",
        hex.to_str().unwrap(),
    ]);
    c.json(&["broadcast", hex.to_str().unwrap()]);
    node.mine_elsewhere(1);
    let b = c.balance();
    assert_eq!(sat(&b["hot"]["confirmed_sat"]), 4 * 100_000_000);

    // A payout from hot: two hot key holders sign, no approvals needed.
    let csv = c.path("payouts.csv");
    std::fs::write(&csv, format!("{PAYEE_1},0.3 BTC\n{PAYEE_2},0.2 BTC\n")).unwrap();
    let p = c.path("payout.psbt");
    c.json(&[
        "propose",
        "payout",
        "--csv",
        csv.to_str().unwrap(),
        "-o",
        p.to_str().unwrap(),
    ]);
    let mut args = vec!["combine".to_owned()];
    for key in ["hot-1", "hot-3"] {
        let out = c.path(&format!("p-{key}.psbt"));
        signer(&c, key)
            .arg("sign")
            .arg(&p)
            .arg("-o")
            .arg(&out)
            .arg("--yes")
            .assert()
            .success();
        args.push(out.to_str().unwrap().to_owned());
    }
    let all = c.path("p-all.psbt");
    args.extend(["-o".into(), all.to_str().unwrap().into()]);
    c.json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let hex = c.path("p.hex");
    c.json(&[
        "finalize",
        all.to_str().unwrap(),
        "-o",
        hex.to_str().unwrap(),
    ]);
    c.json(&["broadcast", hex.to_str().unwrap()]);
    node.mine_elsewhere(1);
    let b = c.balance();
    let fee = 4 * 100_000_000 - 50_000_000 - sat(&b["hot"]["total_sat"]);
    assert!(fee > 0 && fee < 10_000, "fee {fee}");
    c.json(&["log", "verify"]);
}

/// The coordinator applies the daily limit from its own log of broadcasts.
#[test]
fn daily_limit_counts_what_was_broadcast_today() {
    let node = common::Node::start();
    let dir = tempfile::tempdir().unwrap();
    let tight = dir.path().join("tight.toml");
    let text = std::fs::read_to_string(POLICY)
        .unwrap()
        .replace("daily_limit = \"10 BTC\"", "daily_limit = \"6 BTC\"");
    assert!(text.contains("daily_limit = \"6 BTC\""));
    std::fs::write(&tight, text).unwrap();
    let policy = VaultPolicy::load(&tight).unwrap();
    let c = Coord::new(&node);
    c.json(&["init", tight.to_str().unwrap()]);
    let a = c.json(&["address", "--tier", "cold"]);
    node.mine_to_descriptor(2, a["descriptor"].as_str().unwrap());
    node.mine_elsewhere(100);
    c.balance();
    let transfer = |amount: &str, name: &str| -> (PathBuf, Vec<String>) {
        let p = c.path(name);
        let out = p.to_str().unwrap().to_owned();
        let args = [
            "propose",
            "transfer",
            "--from",
            "cold",
            "--to",
            "hot",
            "--amount",
            amount,
            "--fee-rate",
            "2",
            "-o",
            &out,
        ];
        let args = args.iter().map(|a| a.to_string()).collect();
        (p, args)
    };
    let (p, args) = transfer("4 BTC", "first.psbt");
    c.json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let (a1, a2, approved) = (
        c.path("a1.psbt"),
        c.path("a2.psbt"),
        c.path("approved.psbt"),
    );
    approve(&policy, "sato", Movement::ColdToHot, &p, &a1);
    approve(&policy, "suzuki", Movement::ColdToHot, &p, &a2);
    c.json(&[
        "combine",
        a1.to_str().unwrap(),
        a2.to_str().unwrap(),
        "-o",
        approved.to_str().unwrap(),
    ]);
    sign_and_send(
        &node,
        &c,
        &policy,
        Tier::Cold,
        &["cold-1", "cold-2", "cold-3"],
        &approved,
    );
    c.balance();

    let (_, args) = transfer("3 BTC", "second.psbt");
    let err = c.fails(&args.iter().map(String::as_str).collect::<Vec<_>>(), 1);
    assert!(err.contains("daily-limit"), "{err}");
    let (_, args) = transfer("2 BTC", "third.psbt");
    c.json(&args.iter().map(String::as_str).collect::<Vec<_>>());
}

/// A confirmed payout whose block is replaced by a longer chain without it
/// goes back to unconfirmed, then confirms again; balances follow.
#[test]
fn reorg_unconfirms_and_reconfirms_a_payout() {
    let node = common::Node::start();
    let policy = VaultPolicy::load(Path::new(POLICY)).unwrap();
    let c = init_and_fund(&node, 1);
    let hot = c.json(&["address", "--tier", "hot"]);
    node.mine_to_descriptor(1, hot["descriptor"].as_str().unwrap());
    node.mine_elsewhere(100);
    c.balance();
    let csv = c.path("payouts.csv");
    std::fs::write(&csv, format!("{PAYEE_1},0.5 BTC\n")).unwrap();
    let p = c.path("payout.psbt");
    c.json(&[
        "propose",
        "payout",
        "--csv",
        csv.to_str().unwrap(),
        "--fee-rate",
        "2",
        "-o",
        p.to_str().unwrap(),
    ]);
    let txid = sign_and_send(&node, &c, &policy, Tier::Hot, &["hot-2", "hot-3"], &p);
    let confirmed = c.balance();
    let hot_total = sat(&confirmed["hot"]["total_sat"]);
    assert_eq!(sat(&confirmed["hot"]["confirmed_sat"]), hot_total);
    assert!(hot_total < 50 * 100_000_000 - 50_000_000);

    // Replace the block with two empty ones: the payout is back in the mempool.
    let tip = node.call("getbestblockhash", &[]);
    node.call("invalidateblock", &[tip]);
    let elsewhere =
        bitcoin::Address::p2wsh(&bitcoin::ScriptBuf::from(vec![0x51]), Network::Regtest)
            .to_string();
    for _ in 0..2 {
        node.call("generateblock", &[json!(elsewhere), json!([])]);
    }
    let mempool = node.call("getrawmempool", &[]);
    assert!(mempool
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == txid.as_str()));
    let b = c.balance();
    assert_eq!(sat(&b["hot"]["total_sat"]), hot_total);
    assert_eq!(sat(&b["hot"]["confirmed_sat"]), 0);
    assert_eq!(sat(&b["hot"]["unconfirmed_sat"]), hot_total);
    let status = c.json(&["status"]);
    assert_eq!(status["wallet_tips"][1]["hash"], status["node"]["tip_hash"]);

    node.mine_elsewhere(1);
    let b = c.balance();
    assert_eq!(sat(&b["hot"]["confirmed_sat"]), hot_total);
    assert_eq!(sat(&b["hot"]["unconfirmed_sat"]), 0);
}

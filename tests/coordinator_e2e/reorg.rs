//! Reorganisations of the chain.

use super::support::*;

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

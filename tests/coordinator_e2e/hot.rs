//! The hot wallet: rebalancing, payouts, consolidation.

use super::support::*;

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
    // `status` says what is left to do: the ratio, and the open proposal.
    let status = c.json(&["status"]);
    assert_eq!(status["to_do"]["ratio_ok"], false);
    let open = &status["to_do"]["open_proposals"];
    assert_eq!(open.as_array().unwrap().len(), 1, "{status}");
    assert_eq!(open[0]["txid"], r["proposal"]["txid"]);
    assert_eq!(open[0]["signatures_needed"], 2);
    let text = c.cmd().arg("status").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("below the policy's minimum: propose a rebalance"),
        "{text}"
    );
    assert!(text.contains("2 more signature(s)"), "{text}");
    sign_and_send(&node, &c, &policy, Tier::Hot, &["hot-1", "hot-3"], &p);
    c.json(&["sync"]);
    let status = c.json(&["status"]);
    assert!(status["to_do"]["open_proposals"]
        .as_array()
        .unwrap()
        .is_empty());
    let b = c.balance();
    assert_eq!(sat(&b["cold"]["total_sat"]), 90 * 100_000_000);
    assert_eq!(b["ratio_ok"], true);
    // Bitcoin Core, given the `core-descriptors` export, finds the same coins.
    for tier in Tier::ALL {
        assert_eq!(
            core_scan_of_export(&node, tier),
            sat(&b[tier.as_str()]["total_sat"]),
            "{tier}"
        );
    }
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

/// The sats Bitcoin Core's `scantxoutset` finds at the descriptors of one
/// tier's `policy export --format core-descriptors`, over their ranges.
fn core_scan_of_export(node: &common::Node, tier: Tier) -> u64 {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_custodia-coordinator"))
        .args([
            "policy",
            "export",
            POLICY,
            "--format",
            "core-descriptors",
            "--tier",
        ])
        .arg(tier.as_str())
        .output()
        .unwrap();
    assert!(out.status.success());
    let requests: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let objects: Vec<serde_json::Value> = requests
        .iter()
        .map(|r| serde_json::json!({"desc": r["desc"], "range": r["range"]}))
        .collect();
    let scan = node.call("scantxoutset", &["start".into(), objects.into()]);
    assert_eq!(scan["success"], true, "{scan}");
    bitcoin::Amount::from_btc(scan["total_amount"].as_f64().unwrap())
        .unwrap()
        .to_sat()
}

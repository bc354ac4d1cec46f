//! Fee bumps of stuck transactions, and daily limits.

use super::support::*;

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
    c.json(&cold_to_hot("2 BTC", Some("1"), slow.to_str().unwrap()));
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

/// The coordinator applies the daily limit from its own log of broadcasts:
/// what left cold in the last 24 hours, fees included.
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
    // 4 BTC and its fee are counted: 1.9 BTC and another fee still fit 6 BTC.
    let (_, args) = transfer("1.9 BTC", "third.psbt");
    c.json(&args.iter().map(String::as_str).collect::<Vec<_>>());
}

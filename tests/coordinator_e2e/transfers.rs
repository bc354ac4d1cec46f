//! Transfers between the tiers: the full cold→hot flow, refusals by the rules, taproot and recovery policies.

use super::support::*;

#[test]
fn cold_to_hot_transfer_end_to_end() {
    let node = common::Node::start();
    let policy = VaultPolicy::load(Path::new(POLICY)).unwrap();
    let c = init_and_fund(&node, 2);
    let b = c.balance();
    assert_eq!(sat(&b["cold"]["total_sat"]), 100 * 100_000_000);

    // Over the rule's 5 BTC: refused before anyone is asked to sign.
    let p = c.path("too-much.psbt");
    let err = c.fails(&cold_to_hot("6 BTC", None, p.to_str().unwrap()), 1);
    assert!(err.contains("amount"), "{err}");
    assert!(!p.exists());

    // Over the fee-rate cap of 200 sat/vB: refused too.
    let err = c.fails(&cold_to_hot("1 BTC", Some("500"), p.to_str().unwrap()), 1);
    assert!(err.contains("fee-rate"), "{err}");
    assert!(!p.exists());

    let p = c.path("transfer.psbt");
    let prop = c.json(&cold_to_hot("5 BTC", Some("2"), p.to_str().unwrap()));
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
    c.fails(&cold_to_hot("1 BTC", None, p.to_str().unwrap()), 2);

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
    // Broadcasting again what the node holds already (a broadcast stopped
    // before its log entry is finished so) succeeds and is logged once.
    let again = c.json(&["broadcast", hex.to_str().unwrap()]);
    assert_eq!(again["txid"], txid.as_str());
    let log = custodia::audit::EventLog::new(c.data_dir().join("events.jsonl"));
    let broadcasts = log
        .verify()
        .unwrap()
        .entries
        .iter()
        .filter(|e| e.kind() == "broadcast" && e.event["txid"] == txid.as_str())
        .count();
    assert_eq!(broadcasts, 1);

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
    let err = c.fails(&cold_to_hot("4 BTC", None, p.to_str().unwrap()), 1);
    assert!(err.contains("below the minimum of 97%"), "{err}");
    assert!(!p.exists());
    // 2 BTC of 100 keeps 98 % cold.
    c.json(&cold_to_hot("2 BTC", None, p.to_str().unwrap()));
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
        c.json(&cold_to_hot("3 BTC", Some("2"), p.to_str().unwrap()));
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

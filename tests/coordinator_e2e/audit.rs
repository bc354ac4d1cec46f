//! The auditor against a vault the coordinator runs: balances equal to the
//! satoshi, every spend of the approved flow reconciles, and spends made
//! with the vault's keys behind custodia's back are findings.

use super::support::*;

/// custodia-auditor pointed at `node`: exit code, stdout, stderr.
pub(crate) fn auditor(node: &common::Node, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("custodia-auditor")
        .unwrap()
        .env_remove("CUSTODIA_RPC_URL")
        .env_remove("CUSTODIA_RPC_COOKIE")
        .args(args)
        .arg("--rpc-url")
        .arg(node.rpc_url())
        .arg("--rpc-cookie")
        .arg(node.cookie_file())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Signs `psbt` with Core for `keys` of cold, finalizes and broadcasts it
/// with Core alone (no custodia step), and mines it; its txid.
fn spend_with_core(node: &common::Node, c: &Coord, policy: &VaultPolicy, psbt: &Path) -> String {
    let mut signed = Vec::new();
    for key in ["cold-1", "cold-2", "cold-3"] {
        let out = c.path(&format!("core-{key}.psbt"));
        sign_with_core(node, policy, Tier::Cold, key, psbt, &out);
        signed.push(json!(std::fs::read_to_string(&out).unwrap().trim()));
    }
    let combined = node.call("combinepsbt", &[json!(signed)]);
    let done = node.call("finalizepsbt", &[combined]);
    assert_eq!(done["complete"], true, "{done}");
    let txid = node.call("sendrawtransaction", &[done["hex"].clone()]);
    node.mine_elsewhere(1);
    txid.as_str().unwrap().to_owned()
}

#[test]
fn auditor_reconciles_the_approved_flow_and_finds_spends_behind_custodias_back() {
    let node = common::Node::start();
    let policy = VaultPolicy::load(Path::new(POLICY)).unwrap();
    let c = init_and_fund(&node, 2);
    let log = c.data_dir().join("events.jsonl");
    let log = log.to_str().unwrap();

    // The approved flow: two departments approve, three cold keys sign.
    let p = c.path("transfer.psbt");
    c.json(&cold_to_hot("1 BTC", Some("2"), p.to_str().unwrap()));
    let (a1, a2) = (c.path("a-sato.psbt"), c.path("a-suzuki.psbt"));
    approve(&policy, "sato", Movement::ColdToHot, &p, &a1);
    approve(&policy, "suzuki", Movement::ColdToHot, &p, &a2);
    let approved = c.path("approved.psbt");
    c.json(&[
        "combine",
        a1.to_str().unwrap(),
        a2.to_str().unwrap(),
        "-o",
        approved.to_str().unwrap(),
    ]);
    let approved_txid = sign_and_send(
        &node,
        &c,
        &policy,
        Tier::Cold,
        &["cold-1", "cold-2", "cold-3"],
        &approved,
    );

    // The auditor's balances are the coordinator's, to the satoshi.
    let b = c.balance();
    let (code, out, err) = auditor(&node, &["balances", "--policy", POLICY, "--json"]);
    assert_eq!(code, 0, "{err}");
    let a: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(sat(&a["tiers"][0]["sat"]), sat(&b["cold"]["total_sat"]));
    assert_eq!(sat(&a["tiers"][1]["sat"]), sat(&b["hot"]["total_sat"]));

    // Reserves: the chain's assets against customers' liabilities.
    let secret = c.path("salt.secret");
    private_file(&secret, &"7".repeat(64));
    let assets = sat(&a["total_sat"]);
    for (owed, code) in [(assets - 1_000, 0), (assets + 1, 1)] {
        let csv = c.path(&format!("liabilities-{owed}.csv"));
        std::fs::write(
            &csv,
            format!("customer,amount\nc-1,1000 sat\nc-2,{} sat\n", owed - 1_000),
        )
        .unwrap();
        let (got, out, err) = auditor(
            &node,
            &[
                "reserves",
                "--policy",
                POLICY,
                "--liabilities",
                csv.to_str().unwrap(),
                "--salt-secret",
                secret.to_str().unwrap(),
                "--json",
            ],
        );
        assert_eq!(got, code, "{out}{err}");
        let r: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(sat(&r["assets_sat"]), assets);
        assert_eq!(sat(&r["liabilities_sat"]), owed);
        assert_eq!(r["covered"], code == 0);
        assert_eq!(r["root"].as_str().unwrap().len(), 64);
    }

    let reconcile = ["reconcile", "--policy", POLICY, "--log", log];
    let (code, out, err) = auditor(&node, &[&reconcile[..], &["--json"]].concat());
    assert_eq!(code, 0, "{out}{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    let spends = r["reconcile"]["spends"].as_array().unwrap();
    assert_eq!(spends.len(), 1, "{out}");
    assert_eq!(spends[0]["txid"], approved_txid.as_str());
    assert_eq!(spends[0]["movement"], "cold-to-hot");
    assert_eq!(spends[0]["problems"].as_array().unwrap().len(), 0);

    // The daily report: written, valid JSON, no finding.
    let day1 = c.path("report-1");
    let covered = c.path(&format!("liabilities-{}.csv", assets - 1_000));
    let (code, out, err) = auditor(
        &node,
        &[
            "report",
            "--policy",
            POLICY,
            "--log",
            log,
            "-o",
            day1.to_str().unwrap(),
            "--liabilities",
            covered.to_str().unwrap(),
            "--salt-secret",
            secret.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(day1.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 0);
    assert_eq!(report["reserves"]["covered"], true);
    assert_eq!(
        sat(&report["balances"]["total_sat"]),
        sat(&b["cold"]["total_sat"]) + sat(&b["hot"]["total_sat"])
    );
    assert_eq!(report["tip_height"], node.call("getblockcount", &[]));
    assert_eq!(report["reconcile"]["spends"].as_array().unwrap().len(), 1);
    let last_day = report["days"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(sat(&last_day["hot_sat"]), sat(&b["hot"]["total_sat"]));
    let md = std::fs::read_to_string(day1.join("report.md")).unwrap();
    assert!(md.contains("- findings: **none**"), "{md}");
    let svg = std::fs::read_to_string(day1.join("balances.svg")).unwrap();
    assert!(svg.starts_with("<svg "), "{svg}");

    // Behind custodia's back: a cold coin paid outside, signed and sent
    // with Core and the keys alone.
    let coins = c.json(&["utxos", "--tier", "cold"]);
    let coin = &coins.as_array().unwrap()[0];
    let (txid, vout) = coin["outpoint"].as_str().unwrap().split_once(':').unwrap();
    let value = sat(&coin["amount_sat"]) as f64 / 1e8;
    let raw = node.call(
        "createpsbt",
        &[
            json!([{"txid": txid, "vout": vout.parse::<u32>().unwrap()}]),
            json!([{ PAYEE_3_NOT_ALLOWED: format!("{:.8}", value - 0.001) }]),
        ],
    );
    let theft_psbt = c.path("theft.psbt");
    std::fs::write(&theft_psbt, raw.as_str().unwrap()).unwrap();
    let theft = spend_with_core(&node, &c, &policy, &theft_psbt);

    // A cold→hot transfer the coordinator proposed, but signed and sent
    // without the approvals.
    let unapproved_psbt = c.path("unapproved.psbt");
    c.json(&cold_to_hot(
        "1 BTC",
        Some("2"),
        unapproved_psbt.to_str().unwrap(),
    ));
    let unapproved = spend_with_core(&node, &c, &policy, &unapproved_psbt);

    let (code, out, err) = auditor(&node, &reconcile);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains(&format!("OK      {approved_txid}")), "{out}");
    assert!(out.contains(&format!("FINDING {theft}")), "{out}");
    assert!(out.contains("no proposal of this transaction"), "{out}");
    assert!(out.contains(&format!("FINDING {unapproved}")), "{out}");
    assert!(out.contains("rule approvals"), "{out}");
    assert!(err.contains("do not reconcile"), "{err}");
    let (_, out, _) = auditor(&node, &[&reconcile[..], &["--json"]].concat());
    let r: Value = serde_json::from_str(&out).unwrap();
    let findings: Vec<(String, String)> = r["reconcile"]["spends"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["problems"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        s["txid"].as_str().unwrap().to_owned(),
                        p["problem"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        findings.contains(&(theft.clone(), "not-proposed".into())),
        "{findings:?}"
    );
    assert!(
        findings.contains(&(unapproved.clone(), "rule-fails".into())),
        "{findings:?}"
    );

    // The report lists the findings and exits 1, written all the same; a
    // second report into the same directory replaces nothing.
    let day2 = c.path("report-2");
    let report_args = [
        "report",
        "--policy",
        POLICY,
        "--log",
        log,
        "-o",
        day2.to_str().unwrap(),
    ];
    let (code, _, err) = auditor(&node, &report_args);
    assert_eq!(code, 1, "{err}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(day2.join("report.json")).unwrap()).unwrap();
    let txids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["txid"].as_str().unwrap())
        .collect();
    assert!(
        txids.contains(&theft.as_str()) && txids.contains(&unapproved.as_str()),
        "{txids:?}"
    );
    let before = std::fs::read_to_string(day2.join("report.md")).unwrap();
    let (code, _, err) = auditor(&node, &report_args);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        std::fs::read_to_string(day2.join("report.md")).unwrap(),
        before
    );
}

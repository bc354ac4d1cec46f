//! The flow with custodia's own signer program.

use super::support::*;

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
    c.json(&cold_to_hot("4 BTC", None, p.to_str().unwrap()));

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
    let p = propose_payout(
        &c,
        "payout",
        &format!("{PAYEE_1},0.3 BTC\n{PAYEE_2},0.2 BTC\n"),
    );
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
    signer_logs_hold_every_head_they_reported(&c);
}

/// The coordinator recorded the log head each signer wrote into the PSBT it
/// signed; the auditor finds them in the signers' logs, and finds a signer
/// log cut short after it signed (to sign past a daily limit again).
fn signer_logs_hold_every_head_they_reported(c: &Coord) {
    let events = c.data_dir().join("events.jsonl");
    let text = std::fs::read_to_string(&events).unwrap();
    assert_eq!(text.matches("\"kind\":\"signer-head\"").count(), 5);
    let logs: Vec<PathBuf> = ["cold-1", "cold-2", "cold-4", "hot-1", "hot-3"]
        .iter()
        .map(|k| c.path(k).join("log.jsonl"))
        .collect();
    let auditor = || {
        let mut cmd = Command::cargo_bin("custodia-auditor").unwrap();
        cmd.args(["log", "verify", "--json"])
            .arg(&events)
            .args(&logs);
        cmd
    };
    let out = auditor().assert().success().get_output().stdout.clone();
    let report: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["signer_heads"]["checked"], 5);
    assert_eq!(report["signer_heads"]["missing"], json!([]));

    // cold-4 removes its last entry (its signature of the transfer).
    let cut = &logs[2];
    let lines: Vec<String> = std::fs::read_to_string(cut)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    std::fs::write(cut, lines[..lines.len() - 1].join("\n") + "\n").unwrap();
    auditor()
        .assert()
        .code(1)
        .stderr(predicates::str::contains("cut short or rewritten"));
}

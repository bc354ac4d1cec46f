//! A taproot rebalance carried across the air gap in compact QR frames:
//! the coordinator proposes with `--qr-out --qr-compact`, two custodia
//! signers re-fill the frames, sign and answer in compact frames, and the
//! coordinator re-fills theirs, finalizes and broadcasts.

use super::support::*;

const TAPROOT: &str = "policies/regtest-taproot.toml";

/// Frames written, as reported in a command's JSON.
fn frames(v: &Value) -> u64 {
    v["frames"]["frames"]
        .as_u64()
        .unwrap_or_else(|| panic!("no frames in {v}"))
}

#[test]
fn a_taproot_rebalance_crosses_the_gap_in_compact_frames() {
    let node = common::Node::start();
    let c = Coord::new(&node);
    c.json(&["init", TAPROOT]);
    let cold = c.json(&["address", "--tier", "cold"]);
    node.mine_to_descriptor(1, cold["descriptor"].as_str().unwrap());
    // Six hot coins: hot holds six sevenths, far above its 10 % target.
    let hot = c.json(&["address", "--tier", "hot"]);
    node.mine_to_descriptor(6, hot["descriptor"].as_str().unwrap());
    node.mine_elsewhere(100);
    let before = c.balance();
    for key in ["hot-1", "hot-3"] {
        key_holder(&c, key, TAPROOT);
    }

    let proposal = c.path("rebalance.psbt");
    let out = c.path("rebalance-frames");
    let r = c.json(&[
        "propose",
        "rebalance",
        "--fee-rate",
        "2",
        "-o",
        proposal.to_str().unwrap(),
        "--qr-out",
        out.to_str().unwrap(),
        "--qr-compact",
    ]);
    assert_eq!(r["proposal"]["movement"], "hot-to-cold");
    let compact_frames = frames(&r);
    // The full PSBT in the same frames, for comparison.
    let full = c.path("rebalance-full-frames");
    let encoded = signer(&c, "hot-1")
        .args(["qr", "encode", "-o"])
        .arg(&full)
        .arg(&proposal)
        .assert()
        .success();
    let said = String::from_utf8_lossy(&encoded.get_output().stdout).into_owned();
    let full_frames: u64 = said.split_whitespace().next().unwrap().parse().unwrap();
    assert!(
        full_frames >= 3 * compact_frames,
        "{full_frames} full frames, {compact_frames} compact"
    );

    let mut answers = Vec::new();
    for key in ["hot-1", "hot-3"] {
        let answer = c.path(&format!("rebalance-{key}-frames"));
        signer(&c, key)
            .args(["sign", "--yes", "--qr-compact", "--qr-in"])
            .arg(&out)
            .arg("--qr-out")
            .arg(&answer)
            .assert()
            .success();
        answers.push(answer);
    }
    let hex = c.path("rebalance.hex");
    let mut args = vec!["finalize".to_owned()];
    for a in &answers {
        args.extend(["--qr-in".into(), a.to_str().unwrap().into()]);
    }
    args.extend(["-o".into(), hex.to_str().unwrap().into()]);
    c.json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    c.json(&["broadcast", hex.to_str().unwrap()]);
    node.mine_elsewhere(1);

    let after = c.balance();
    let moved = sat(&r["proposal"]["amount_sat"]);
    assert_eq!(
        sat(&after["cold"]["total_sat"]),
        sat(&before["cold"]["total_sat"]) + moved
    );
    assert_eq!(after["ratio_ok"], true);
}

//! The recovery path used, not only declared: with the cold quorum lost,
//! cold-1 and recovery-1 move the cold funds through the timelocked branch
//! to a successor vault. Before the timelock the coordinator says from which
//! height the node accepts it, and the node refuses it (non-BIP68-final);
//! after the blocks are mined it confirms.

use super::support::*;

const RECOVERY: &str = "policies/regtest-recovery.toml";

#[test]
fn the_recovery_branch_moves_cold_funds_to_a_successor_after_its_timelock() {
    let node = common::Node::start();
    let c = Coord::new(&node);
    // The successor: a new cold quorum (4-of-5), the same recovery path.
    let text = std::fs::read_to_string(RECOVERY).unwrap();
    let next = text.replacen(
        "threshold = 3\nkeys = [\"cold-1\"",
        "threshold = 4\nkeys = [\"cold-1\"",
        1,
    );
    assert_ne!(next, text);
    let new = c.path("successor.toml");
    std::fs::write(&new, next).unwrap();
    let new = new.to_str().unwrap().to_owned();

    c.json(&["init", RECOVERY]);
    let a = c.json(&["address", "--tier", "cold"]);
    node.mine_to_descriptor(2, a["descriptor"].as_str().unwrap());
    node.mine_elsewhere(100);
    let before = c.balance();
    // Only cold-1 and recovery-1 are left of the cold keys (three lost).
    for who in ["cold-1", "recovery-1"] {
        key_holder(&c, who, RECOVERY);
    }
    for id in ["sato", "suzuki"] {
        approver_machine(&c, id, RECOVERY);
    }
    for who in ["cold-1", "recovery-1", "sato", "suzuki"] {
        signer(&c, who)
            .args(["register", &new, "--successor", "--yes"])
            .assert()
            .success();
    }

    let psbt = c.path("recovery.psbt");
    let p = c.json(&[
        "propose",
        "recovery",
        "--tier",
        "cold",
        "--to",
        &new,
        "-o",
        psbt.to_str().unwrap(),
    ]);
    assert_eq!(p["proposal"]["movement"], "cold-migration");
    let note = p["proposal"]["note"].as_str().unwrap().to_owned();
    assert!(note.contains("block(s) from now"), "{note}");
    let fee = sat(&p["proposal"]["fee_sat"]);

    // Approvals as for any cold migration, then the two recovery keys.
    let approvals: Vec<PathBuf> = ["sato", "suzuki"]
        .iter()
        .map(|w| approve_as(&c, w, &psbt))
        .collect();
    let approved = c.path("recovery-approved.psbt");
    combine_into(&c, &approvals, &approved);
    let signed: Vec<PathBuf> = ["cold-1", "recovery-1"]
        .iter()
        .map(|w| sign_as(&c, w, &approved))
        .collect();
    let hex = finalize_into(&c, &signed, "recovery");

    // Before the timelock the node refuses it.
    let err = c.fails(&["broadcast", hex.to_str().unwrap()], 1);
    assert!(err.contains("non-BIP68-final"), "{err}");

    // The proposal named the height; mine up to it and it goes through.
    let height = |s: &str| -> u64 {
        let at = s.find("from height ").unwrap() + "from height ".len();
        s[at..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let tip = node.call("getblockcount", &[]).as_u64().unwrap();
    node.mine_elsewhere(height(&note) - tip);
    c.json(&["broadcast", hex.to_str().unwrap()]);
    node.mine_elsewhere(1);
    assert_eq!(sat(&c.balance()["cold"]["total_sat"]), 0);
    c.json(&["init", &new, "--replace-policy"]);
    assert_eq!(
        sat(&c.balance()["cold"]["total_sat"]),
        sat(&before["cold"]["total_sat"]) - fee
    );
}

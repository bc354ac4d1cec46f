//! Key rotation end to end: cold-1's and hot-3's keys are replaced by new seeds in a
//! successor policy; its approvers approve the change, the coordinator
//! announces it, key holders register the successor beside the old policy,
//! and both tiers migrate to it; the balances arrive to the satoshi, the old
//! policy is retired, and a signer without the approved successor refuses.

use super::governance::{approve_update, register_as, GOVERNANCE};
use super::support::*;

/// `text` with the xpub of key `id` replaced by `xpub`.
fn with_key(text: &str, id: &str, xpub: &str) -> String {
    let at = text.find(&format!("id = \"{id}\"")).unwrap();
    let start = at + text[at..].find("xpub = \"").unwrap() + "xpub = \"".len();
    let end = start + text[start..].find('"').unwrap();
    format!("{}{xpub}{}", &text[..start], &text[end..])
}

/// A fresh seed on a new laptop `who`: its wsh account xpub.
fn new_key(c: &Coord, who: &str) -> String {
    signer(c, who)
        .args(["init", "--network", "regtest", "--no-display"])
        .assert()
        .success();
    let out = signer(c, who).args(["xpub", "--json"]).output().unwrap();
    let xpub: Value = serde_json::from_slice(&out.stdout).unwrap();
    xpub["wsh"].as_str().unwrap().to_owned()
}

/// The governed example policy and its successor with cold-1's and
/// hot-3's keys replaced by new ones, written into the scratch dir.
fn policies(c: &Coord) -> (String, String) {
    let text = std::fs::read_to_string(POLICY).unwrap() + GOVERNANCE;
    let next = with_key(&text, "cold-1", &new_key(c, "cold-new"));
    let next = with_key(&next, "hot-3", &new_key(c, "hot-new"));
    let (old, new) = (c.path("vault-1.toml"), c.path("vault-2.toml"));
    std::fs::write(&old, text).unwrap();
    std::fs::write(&new, next).unwrap();
    (old.to_str().unwrap().into(), new.to_str().unwrap().into())
}

/// `register NEW --successor [--update U]` on `who`'s signer: exit code.
fn register_successor(c: &Coord, who: &str, new: &str, update: Option<&Path>) -> i32 {
    register_as(c, who, new, "--successor", update)
}

#[test]
fn a_cold_key_is_rotated_and_both_tiers_migrate_to_the_successor() {
    let node = common::Node::start();
    let c = Coord::new(&node);
    // The new keys: fresh seeds on new laptops.
    let (old, new) = policies(&c);

    c.json(&["init", &old]);
    for (tier, blocks) in [("cold", 2), ("hot", 1)] {
        let a = c.json(&["address", "--tier", tier]);
        node.mine_to_descriptor(blocks, a["descriptor"].as_str().unwrap());
    }
    node.mine_elsewhere(100);
    for key in ["cold-2", "cold-3", "cold-4", "cold-5", "hot-1", "hot-2"] {
        key_holder(&c, key, &old);
    }
    for id in ["sato", "suzuki"] {
        approver_machine(&c, id, &old);
    }

    // The change is approved by two departments, announced, and waited for.
    let (u1, u) = (c.path("update-1.json"), c.path("update.json"));
    approve_update(&c, "sato", &new, None, &u1);
    approve_update(&c, "suzuki", &new, Some(&u1), &u);
    let us = u.to_str().unwrap();
    // Before the announcement the coordinator will not migrate.
    let early = c.path("early.psbt");
    let migrate = |tier: &'static str, out: &Path| {
        [
            "propose",
            "migrate",
            "--tier",
            tier,
            "--to",
            &new,
            "--update",
            us,
            "-o",
            out.to_str().unwrap(),
        ]
        .map(str::to_owned)
    };
    let args = migrate("cold", &early);
    c.fails(&args.iter().map(String::as_str).collect::<Vec<_>>(), 1);
    assert!(!early.exists());
    c.json(&["announce-policy", &new, "--update", us]);
    node.mine_elsewhere(6);

    // Key holders register the successor beside the old policy, with its
    // approvals; without them a signer refuses.
    assert_eq!(register_successor(&c, "cold-5", &new, None), 1);
    assert_eq!(register_successor(&c, "cold-5", &new, Some(&u1)), 1);
    for who in [
        "cold-2", "cold-3", "cold-4", "hot-1", "hot-2", "sato", "suzuki",
    ] {
        assert_eq!(register_successor(&c, who, &new, Some(&u)), 0, "{who}");
    }
    let before = c.balance();

    // Cold: approvals as for cold→hot, then three cold signatures.
    let cold_psbt = c.path("migrate-cold.psbt");
    let args = migrate("cold", &cold_psbt);
    let p = c.json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(p["proposal"]["movement"], "cold-migration");
    let cold_fee = sat(&p["proposal"]["fee_sat"]);
    // cold-5 never registered the approved successor: it refuses.
    let refused = c.path("migrate-cold.cold-5.psbt");
    signer(&c, "cold-5")
        .arg("sign")
        .arg(&cold_psbt)
        .arg("-o")
        .arg(&refused)
        .arg("--yes")
        .assert()
        .code(1);
    assert!(!refused.exists());
    let approved = [
        approve_as(&c, "sato", &cold_psbt),
        approve_as(&c, "suzuki", &cold_psbt),
    ];
    let combined = c.path("migrate-cold-approved.psbt");
    combine_into(&c, &approved, &combined);
    let signed: Vec<PathBuf> = ["cold-2", "cold-3", "cold-4"]
        .iter()
        .map(|who| sign_as(&c, who, &combined))
        .collect();
    finalize_and_send(&node, &c, &signed, "migrate-cold");

    // Hot: two hot signatures, no approvals.
    let hot_psbt = c.path("migrate-hot.psbt");
    let args = migrate("hot", &hot_psbt);
    let p = c.json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(p["proposal"]["movement"], "hot-migration");
    let hot_fee = sat(&p["proposal"]["fee_sat"]);
    let signed: Vec<PathBuf> = ["hot-1", "hot-2"]
        .iter()
        .map(|w| sign_as(&c, w, &hot_psbt))
        .collect();
    finalize_and_send(&node, &c, &signed, "migrate-hot");
    let moved = c.balance();
    assert_eq!(sat(&moved["cold"]["total_sat"]), 0);
    assert_eq!(sat(&moved["hot"]["total_sat"]), 0);

    // The coordinator adopts the successor: the funds are there, to the satoshi.
    c.json(&["init", &new, "--replace-policy", "--update", us]);
    let after = c.balance();
    for (tier, fee) in [("cold", cold_fee), ("hot", hot_fee)] {
        assert_eq!(
            sat(&after[tier]["total_sat"]),
            sat(&before[tier]["total_sat"]) - fee,
            "{tier}"
        );
    }

    // The auditor reconciles both migrations with the approvals logged.
    let log = c.data_dir().join("events.jsonl");
    let (code, out, err) = super::audit::auditor(
        &node,
        &[
            "reconcile",
            "--policy",
            &new,
            "--policy",
            &old,
            "--log",
            log.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let movements: Vec<&str> = v["reconcile"]["spends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["movement"].as_str().unwrap())
        .collect();
    assert_eq!(movements, ["cold-migration", "hot-migration"]);
    assert!(v["policy_changes"]["changes"][0]["findings"]
        .as_array()
        .unwrap()
        .is_empty());

    // Key holders retire the old policy; it is no longer signed for.
    let old_id = VaultPolicy::load(Path::new(&old)).unwrap().id().to_string();
    signer(&c, "cold-2")
        .args(["retire-policy", &old_id])
        .assert()
        .success();
    let out = signer(&c, "cold-2")
        .args(["policies", "--json"])
        .output()
        .unwrap();
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["policy_id"].as_str().unwrap())
        .collect();
    let new_id = VaultPolicy::load(Path::new(&new)).unwrap().id().to_string();
    assert_eq!(ids, [new_id.as_str()]);
    signer(&c, "cold-2")
        .arg("review")
        .arg(&cold_psbt)
        .assert()
        .failure();
}

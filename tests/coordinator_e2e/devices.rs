//! A key held on a signing device (`signer = "device"`), with Bitcoin
//! Core's `descriptorprocesspsbt` standing in for the device: the policy
//! check and `init` warn how many custodia signers every quorum still
//! needs, the coordinator collects the device's signature like any other,
//! and a policy where devices alone make a quorum is refused unless the
//! operator says `--i-understand-devices-enforce-nothing` (logged).

use super::support::*;

/// The example exchange policy with `devices` held on signing devices,
/// written into the scratch directory.
fn policy_with_devices(c: &Coord, name: &str, devices: &[&str]) -> PathBuf {
    let mut text = std::fs::read_to_string(POLICY).unwrap();
    for id in devices {
        let entry = format!("id = \"{id}\"\n");
        text = text.replace(&entry, &format!("{entry}signer = \"device\"\n"));
    }
    let path = c.path(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_device_signs_beside_a_custodia_signer() {
    let node = common::Node::start();
    let c = Coord::new(&node);
    let file = policy_with_devices(&c, "devices.toml", &["hot-2"]);
    let file = file.to_str().unwrap();
    let policy = VaultPolicy::load(Path::new(file)).unwrap();

    let out = c.cmd().args(["policy", "check", file]).output().unwrap();
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("WARNING: hot wallet (2-of-3): hot-2 sign on devices that enforce no allowlist, limit or approval; every quorum still needs 1 custodia signer"),
        "{said}"
    );
    let init = c.json(&["init", file]);
    assert_eq!(init["device_warnings"].as_array().unwrap().len(), 1);

    let hot = c.json(&["address", "--tier", "hot"]);
    node.mine_to_descriptor(1, hot["descriptor"].as_str().unwrap());
    let cold = c.json(&["address", "--tier", "cold"]);
    node.mine_to_descriptor(9, cold["descriptor"].as_str().unwrap());
    node.mine_elsewhere(100);
    let before = c.balance();

    let proposal = propose_payout(
        &c,
        "payout",
        &format!("address,amount\n{PAYEE_1},0.5 BTC\n"),
    );
    key_holder(&c, "hot-1", file);
    let by_custodia = sign_as(&c, "hot-1", &proposal);
    let by_device = c.path("payout.device.psbt");
    sign_with_core(&node, &policy, Tier::Hot, "hot-2", &proposal, &by_device);
    finalize_and_send(&node, &c, &[by_custodia, by_device], "payout");
    let after = c.balance();
    assert!(sat(&after["hot"]["total_sat"]) < sat(&before["hot"]["total_sat"]) - 50_000_000);
}

#[test]
fn devices_alone_making_a_quorum_are_refused_unless_understood() {
    let node = common::Node::start();
    let c = Coord::new(&node);
    let file = policy_with_devices(&c, "devices.toml", &["hot-2", "hot-3"]);
    let file = file.to_str().unwrap();
    let said = c.fails(&["policy", "check", file], 2);
    assert!(
        said.contains("the devices hot-2, hot-3 alone make a quorum"),
        "{said}"
    );
    assert!(
        said.contains("--i-understand-devices-enforce-nothing"),
        "{said}"
    );
    let said = c.fails(&["init", file], 2);
    assert!(said.contains("alone make a quorum"), "{said}");
    assert!(!c.data_dir().join("policy.toml").exists());

    let init = c.json(&["init", file, "--i-understand-devices-enforce-nothing"]);
    assert_eq!(init["action"], "created");
    let log = std::fs::read_to_string(c.data_dir().join("events.jsonl")).unwrap();
    assert!(log.contains("\"devices_enforce_nothing\":true"), "{log}");
}

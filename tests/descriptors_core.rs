//! Every example policy's descriptors are accepted by a real Bitcoin Core, and
//! Core derives exactly the addresses custodia derives.
#![cfg(feature = "online")]

mod common;

use custodia::policy::{Chain, Tier, VaultPolicy};
use serde_json::json;

fn example_policies() -> Vec<(String, VaultPolicy)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/policies")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let policy =
                VaultPolicy::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            // A regtest node refuses mainnet xpubs; the mainnet template is
            // checked by the CLI tests instead.
            if policy.network() == bitcoin::Network::Regtest {
                out.push((path.display().to_string(), policy));
            }
        }
    }
    assert!(
        out.len() >= 3,
        "expected the three regtest example policies"
    );
    out
}

#[test]
fn core_accepts_descriptors_and_derives_the_same_addresses() {
    let node = common::Node::start();
    for (name, policy) in example_policies() {
        for tier in Tier::ALL {
            let d = policy.descriptor(tier);
            // The multipath descriptor as a whole, with our checksum.
            let info = node.call("getdescriptorinfo", &[d.to_string().into()]);
            let ours = d.to_string();
            assert_eq!(
                info["checksum"].as_str().unwrap(),
                ours.rsplit('#').next().unwrap(),
                "{name} {tier}: checksum differs from Core's"
            );
            assert_eq!(info["isrange"], json!(true));
            for chain in [Chain::Receive, Chain::Change] {
                let single = d.chain(chain).to_string();
                let core: Vec<String> = serde_json::from_value(
                    node.call("deriveaddresses", &[single.clone().into(), json!([0, 20])]),
                )
                .unwrap();
                let mine: Vec<String> = (0..=20)
                    .map(|i| d.address(chain, i, policy.network()).to_string())
                    .collect();
                assert_eq!(
                    core, mine,
                    "{name} {tier} {chain:?}: addresses differ from Core's"
                );
            }
        }
    }
}

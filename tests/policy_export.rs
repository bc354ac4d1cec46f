//! `policy export`: each format is read back by a reader of its own and
//! compared with the policy; the published examples of BSMS (BIP-129's test
//! vectors) and of Coldcard's setup file are read by the same readers.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use bitcoin::Network;
use custodia::policy::export::bsms::{BsmsError, DescriptorRecord};
use custodia::policy::export::coldcard::{ColdcardError, ColdcardSetup};
use custodia::policy::export::core_descriptors::ImportRequest;
use custodia::policy::export::{export, sparrow, ExportError, ExportFormat};
use custodia::policy::{Chain, ScriptKind, Tier, VaultPolicy};
use miniscript::descriptor::{Descriptor, DescriptorPublicKey};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(data(rel)).unwrap()
}

fn policies() -> Vec<(String, VaultPolicy)> {
    [
        "regtest-exchange",
        "regtest-taproot",
        "regtest-recovery",
        "mainnet-template",
    ]
    .into_iter()
    .map(|n| {
        let p = VaultPolicy::load(&data(&format!("policies/{n}.toml"))).unwrap();
        (n.to_owned(), p)
    })
    .collect()
}

#[test]
fn bip129_test_vectors_are_read_and_their_first_address_checked() {
    for name in [
        "bip129-public-keys",
        "bip129-xpub-template",
        "bip129-standard-encryption-plaintext",
        "bip129-extended-encryption-plaintext",
    ] {
        let text = read(&format!("tests/data/exports/{name}.bsms"));
        let record = DescriptorRecord::parse(&text, Network::Bitcoin)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = if name == "bip129-public-keys" { 1 } else { 2 };
        assert_eq!(record.descriptors().len(), expected, "{name}");
        // CRLF line ends, as a record may travel, read the same.
        let crlf = DescriptorRecord::parse(&text.replace('\n', "\r\n"), Network::Bitcoin).unwrap();
        assert_eq!(crlf, record);
        // A first address that is not the descriptor's is refused.
        let last = text.trim_end().lines().last().unwrap();
        let other = "bc1qc6p3lpt2e2wv0vukgyykx3ca8fhy6pvlfg7sgv8e3qej473jjmxs29860y";
        let tampered = text.replace(last, other);
        assert!(
            matches!(
                DescriptorRecord::parse(&tampered, Network::Bitcoin),
                Err(BsmsError::FirstAddress { .. })
            ),
            "{name}"
        );
        // The record of one network is refused on another.
        assert_eq!(
            DescriptorRecord::parse(&text, Network::Regtest),
            Err(BsmsError::Network(Network::Regtest))
        );
    }
}

#[test]
fn bsms_records_read_back_as_the_policy_wallets() {
    let mut checked = 0;
    for (name, policy) in policies() {
        for tier in Tier::ALL {
            let result = export(&policy, tier, ExportFormat::Bsms);
            if policy.wallet(tier).recovery().is_some() {
                assert_eq!(
                    result,
                    Err(ExportError::BsmsNeedsOnePathSet { tier }),
                    "{name}"
                );
                continue;
            }
            let text = result.unwrap();
            let record = DescriptorRecord::parse(&text, policy.network()).unwrap();
            let d = policy.descriptor(tier);
            let descriptors: Vec<String> =
                record.descriptors().iter().map(|d| d.to_string()).collect();
            assert_eq!(
                descriptors,
                [
                    d.chain(Chain::Receive).to_string(),
                    d.chain(Chain::Change).to_string()
                ],
                "{name} {tier}"
            );
            assert_eq!(
                record.first_address(),
                &d.address(Chain::Receive, 0, policy.network())
            );
            checked += 1;
        }
    }
    assert!(checked >= 5, "{checked}");
}

#[test]
fn coldcards_published_setup_file_reads_as_its_descriptor() {
    let setup =
        ColdcardSetup::parse(&read("tests/data/exports/coldcard-export-p2wsh-myself.txt")).unwrap();
    assert_eq!(setup.name, "CC-2-of-4");
    assert_eq!(setup.threshold, 2);
    assert_eq!(setup.keys.len(), 4);
    let published = Descriptor::<DescriptorPublicKey>::from_str(
        read("tests/data/exports/coldcard-desc-p2wsh-myself.txt").trim(),
    )
    .unwrap();
    let ours = setup
        .descriptor()
        .into_single_descriptors()
        .unwrap()
        .remove(0);
    for i in 0..10 {
        let address = |d: &Descriptor<DescriptorPublicKey>| {
            d.at_derivation_index(i)
                .unwrap()
                .address(Network::Testnet)
                .unwrap()
        };
        assert_eq!(address(&ours), address(&published), "index {i}");
    }
}

#[test]
fn coldcard_setup_files_read_back_as_the_policy_wallets() {
    let mut checked = 0;
    for (name, policy) in policies() {
        for tier in Tier::ALL {
            let wallet = policy.wallet(tier);
            let result = export(&policy, tier, ExportFormat::Coldcard);
            if wallet.script() == ScriptKind::Tr || wallet.recovery().is_some() {
                assert!(
                    matches!(result, Err(ExportError::ColdcardNeedsSortedMulti { .. })),
                    "{name} {tier}"
                );
                continue;
            }
            let text = result.unwrap();
            assert!(
                text.contains(&policy.id().to_string()),
                "names the policy id"
            );
            let setup = ColdcardSetup::parse(&text).unwrap();
            assert!(setup.name.len() <= 20);
            assert_eq!(
                setup.descriptor(),
                *policy.descriptor(tier).multipath(),
                "{name} {tier}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 3, "{checked}");
}

#[test]
fn coldcard_setup_files_that_lie_are_refused() {
    let text = read("tests/data/exports/coldcard-export-p2wsh-myself.txt");
    assert_eq!(
        ColdcardSetup::parse(&text.replace("Policy: 2 of 4", "Policy: 2 of 5")),
        Err(ColdcardError::KeyCount {
            stated: 5,
            listed: 4
        })
    );
    assert_eq!(
        ColdcardSetup::parse(&text.replace("Format: P2WSH", "Format: P2SH")),
        Err(ColdcardError::Format("P2SH".into()))
    );
    assert_eq!(
        ColdcardSetup::parse(&text.replace("Derivation: m/48'/1'/0'/2'\n", "")),
        Err(ColdcardError::NoDerivation(7))
    );
    assert!(matches!(
        ColdcardSetup::parse(&text.replace("0F056943: tpubDF2", "0F056943: tpubDF3")),
        Err(ColdcardError::Value { line: 8, .. })
    ));
}

#[test]
fn sparrow_files_read_back_as_the_policy_descriptors() {
    for (name, policy) in policies() {
        for tier in Tier::ALL {
            let text = export(&policy, tier, ExportFormat::Sparrow).unwrap();
            assert!(text
                .lines()
                .next()
                .unwrap()
                .contains(&policy.id().to_string()));
            let d = policy.descriptor(tier);
            let read: Vec<String> = sparrow::read(&text)
                .unwrap()
                .iter()
                .map(|d| d.to_string())
                .collect();
            assert_eq!(
                read,
                [
                    d.multipath().to_string(),
                    d.chain(Chain::Receive).to_string(),
                    d.chain(Chain::Change).to_string()
                ],
                "{name} {tier}"
            );
        }
    }
}

#[test]
fn core_import_requests_cover_the_policy_range() {
    for (name, policy) in policies() {
        for tier in Tier::ALL {
            let text = export(&policy, tier, ExportFormat::CoreDescriptors).unwrap();
            let requests: Vec<ImportRequest> = serde_json::from_str(&text).unwrap();
            let d = policy.descriptor(tier);
            let max = policy.rules().addresses().max_index();
            assert_eq!(requests.len(), 2);
            for (request, chain) in requests.iter().zip([Chain::Receive, Chain::Change]) {
                assert_eq!(request.desc, d.chain(chain).to_string(), "{name} {tier}");
                assert_eq!(request.internal, chain == Chain::Change);
                assert!(request.active);
                assert_eq!(request.range, [0, max]);
                assert_eq!(request.timestamp, 0, "rescans the whole chain");
            }
        }
    }
}

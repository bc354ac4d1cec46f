//! `policy add-key --from FILE`: a cosigner's key read from each kind of
//! export file a device or signer writes, checked for the vault's network
//! and the wallet's BIP-48 path, and written into a new policy file.
#![cfg(feature = "online")]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use bitcoin::Network;
use custodia::policy::cosigner::{read_cosigner, CosignerError, CosignerSource};
use custodia::policy::{KeySigner, ScriptKind, Tier, VaultPolicy};
use predicates::prelude::*;

const WSH: &str = "[2386fe4b/48'/1'/0'/2']tpubDEDPxGJSPShaSuVPkWv6SmB6ghm6oQvzYX3Y1wR4FqohTtKGcVt1vjFJEuoNxoeeaaMQK69dEhxa5sv8jViTDs1Wog3hKQJ5Tb6P5xVYUM4";
const TR: &str = "[2386fe4b/48'/1'/0'/3']tpubDEDPxGJSPShaTa4MVJvho4JhC5yVt2DfbaXXcM5wt9fXRk7pCcnM861MsvNx4UWtyPe1xziWXJmn5V8Q7oCGSq4zHwCLRevbwv2m9eUkjiP";
const WSH_ACCOUNT_7: &str = "[2386fe4b/48'/1'/7'/2']tpubDF7zdEyXBGjwbaQWAQV7Ba1TG2HUzGJUAs9j8uNGwgTetDMVXWPuPmrEbQRp9SDNNxRtxjCDL7b8xjDJWbuNxZtsFWUzarijfdKQQbpyUpR";

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn cosigner(name: &str) -> String {
    std::fs::read_to_string(data(&format!("tests/data/cosigners/{name}"))).unwrap()
}

fn coordinator() -> Command {
    Command::cargo_bin("custodia-coordinator").unwrap()
}

/// `policy add-key` of the example vault's cold wallet: key `id` from the
/// cosigner file `from`, written to `out`.
fn add_key(from: &str, id: &str, out: &Path) -> Command {
    let mut cmd = coordinator();
    cmd.args(["policy", "add-key"])
        .arg(data("policies/regtest-exchange.toml"))
        .arg("--from")
        .arg(data(&format!("tests/data/cosigners/{from}")))
        .args(["--id", id, "--holder", "risk", "--location", "nagoya"])
        .args(["--tier", "cold", "-o"])
        .arg(out);
    cmd
}

#[test]
fn every_kind_of_export_gives_the_account_key() {
    let cases = [
        (
            "coldcard-multisig-testnet.json",
            ScriptKind::Wsh,
            WSH,
            CosignerSource::ColdcardMultisig,
        ),
        (
            "coldcard-multisig-testnet.json",
            ScriptKind::Tr,
            TR,
            CosignerSource::ColdcardMultisig,
        ),
        (
            "coldcard-generic-testnet.json",
            ScriptKind::Wsh,
            WSH_ACCOUNT_7,
            CosignerSource::ColdcardGeneric,
        ),
        (
            "custodia-signer-regtest.json",
            ScriptKind::Wsh,
            WSH,
            CosignerSource::CustodiaSigner,
        ),
        (
            "custodia-signer-regtest.json",
            ScriptKind::Tr,
            TR,
            CosignerSource::CustodiaSigner,
        ),
        (
            "sparrow-key-expression.txt",
            ScriptKind::Wsh,
            WSH,
            CosignerSource::KeyExpression,
        ),
    ];
    for (file, script, expected, source) in cases {
        let key = read_cosigner(&cosigner(file), Network::Regtest, script)
            .unwrap_or_else(|e| panic!("{file} {script}: {e}"));
        assert_eq!(key.xpub.to_string(), expected, "{file} {script}");
        assert_eq!(key.source, source, "{file}");
    }
}

#[test]
fn exports_for_another_network_or_wallet_type_are_refused() {
    let refused =
        |file: &str, script| read_cosigner(&cosigner(file), Network::Regtest, script).unwrap_err();
    assert!(matches!(
        refused("coldcard-multisig-mainnet.json", ScriptKind::Wsh),
        CosignerError::WrongNetwork {
            expected: Network::Regtest,
            ..
        }
    ));
    assert!(matches!(
        refused("custodia-signer-bitcoin.json", ScriptKind::Wsh),
        CosignerError::WrongNetwork {
            expected: Network::Regtest,
            ..
        }
    ));
    assert!(matches!(
        refused("coldcard-multisig-wrong-path.json", ScriptKind::Wsh),
        CosignerError::WrongPath { .. }
    ));
    assert!(matches!(
        refused("key-expression-tr-for-wsh.txt", ScriptKind::Wsh),
        CosignerError::WrongPath { .. }
    ));
    assert!(matches!(
        refused("key-expression-wrong-depth.txt", ScriptKind::Wsh),
        CosignerError::Depth { depth: 0, steps: 4 }
    ));
    assert_eq!(
        refused("coldcard-generic-testnet.json", ScriptKind::Tr),
        CosignerError::NoKeyForScript(ScriptKind::Tr)
    );
    // The mainnet files are good mainnet keys.
    let main = read_cosigner(
        &cosigner("custodia-signer-bitcoin.json"),
        Network::Bitcoin,
        ScriptKind::Wsh,
    )
    .unwrap();
    assert!(main
        .xpub
        .to_string()
        .starts_with("[2386fe4b/48'/0'/0'/2']xpub"));
    let zpub = read_cosigner(
        &cosigner("coldcard-multisig-mainnet.json"),
        Network::Bitcoin,
        ScriptKind::Wsh,
    )
    .unwrap();
    assert_eq!(zpub.xpub, main.xpub);
    // Garbage, a multisig descriptor, and a key without origin.
    assert!(matches!(
        read_cosigner("hello", Network::Regtest, ScriptKind::Wsh),
        Err(CosignerError::UnknownFormat(_))
    ));
    let bare = WSH.split(']').nth(1).unwrap();
    assert_eq!(
        read_cosigner(bare, Network::Regtest, ScriptKind::Wsh),
        Err(CosignerError::MissingOrigin)
    );
    let two = format!("wsh(multi(1,{WSH}/0/*,{WSH_ACCOUNT_7}/0/*))");
    assert_eq!(
        read_cosigner(&two, Network::Regtest, ScriptKind::Wsh),
        Err(CosignerError::ManyKeys(2))
    );
    assert!(matches!(
        read_cosigner(&format!("{WSH}/5/*"), Network::Regtest, ScriptKind::Wsh),
        Err(CosignerError::Suffix(_))
    ));
}

#[test]
fn add_key_writes_a_new_policy_and_leaves_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let policy = data("policies/regtest-exchange.toml");
    let before = std::fs::read(&policy).unwrap();
    let out = dir.path().join("new.toml");
    add_key("coldcard-multisig-testnet.json", "cold-6", &out)
        .arg("--device")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("now 3-of-6")
                .and(predicate::str::contains("Coldcard multisig export")),
        );
    assert_eq!(std::fs::read(&policy).unwrap(), before, "input untouched");
    let new = VaultPolicy::load(&out).unwrap();
    let key = new.key(&"cold-6".parse().unwrap()).unwrap();
    assert_eq!(key.xpub().to_string(), WSH);
    assert_eq!(key.signer(), KeySigner::Device);
    assert!(new.wallet(Tier::Cold).keys().contains(key.id()));
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("# Example vault"),
        "comments kept"
    );
    // The new file exists now: writing it again is refused, and it stays.
    let written = std::fs::read(&out).unwrap();
    add_key("custodia-signer-regtest.json", "cold-7", &out)
        .assert()
        .failure();
    assert_eq!(std::fs::read(&out).unwrap(), written);
}

#[test]
fn add_key_refuses_wrong_network_wrong_path_and_duplicates_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "coldcard-multisig-mainnet.json",
            "cold-6",
            "is for bitcoin (mainnet), the policy for regtest",
        ),
        (
            "custodia-signer-bitcoin.json",
            "cold-6",
            "the policy for regtest",
        ),
        (
            "coldcard-multisig-wrong-path.json",
            "cold-6",
            "is not the BIP-48 account path m/48'/1'/ACCOUNT'/2'",
        ),
        (
            "key-expression-tr-for-wsh.txt",
            "cold-6",
            "BIP-48 account path",
        ),
        (
            "key-expression-wrong-depth.txt",
            "cold-6",
            "the origin does not belong to this key",
        ),
        ("custodia-signer-regtest.json", "hot-1", "hot-1"),
    ];
    for (file, id, message) in cases {
        let out = dir.path().join("new.toml");
        add_key(file, id, &out)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(message));
        assert!(!out.exists(), "{file}: nothing written");
    }
}

#[test]
fn export_writes_a_new_file_or_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let policy = data("policies/regtest-exchange.toml");
    let out = dir.path().join("cold.txt");
    coordinator()
        .args([
            "policy", "export", "--tier", "cold", "--format", "coldcard", "-o",
        ])
        .arg(&out)
        .arg(&policy)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "coldcard export of the cold wallet written to",
        ));
    let stdout = coordinator()
        .args(["policy", "export", "--tier", "cold", "--format", "coldcard"])
        .arg(&policy)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(std::fs::read(&out).unwrap(), stdout);
    // An existing file is not replaced: exit 2, the file as it was.
    coordinator()
        .args([
            "policy", "export", "--tier", "hot", "--format", "bsms", "-o",
        ])
        .arg(&out)
        .arg(&policy)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "already exists; choose another output file",
        ));
    assert_eq!(std::fs::read(&out).unwrap(), stdout);
    // A format that cannot hold the wallet says what to use instead, exit 2.
    coordinator()
        .args(["policy", "export", "--tier", "hot", "--format", "coldcard"])
        .arg(data("policies/regtest-taproot.toml"))
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("--format bsms"));
}

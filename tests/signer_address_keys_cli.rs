//! The address key table a signer derives when it registers a policy
//! (`policies/<id>.keys`), through `custodia-signer` as a key holder runs
//! it: made at registration, refused when it belongs to another policy,
//! never trusted where it differs from the policy, made anew by `register`.

mod signer_fixtures;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use bitcoin::hashes::{sha256, Hash, HashEngine};
use custodia::policy::AddressKeys;
use signer_fixtures::*;

/// The table file of the registered example policy.
fn table_path(cli: &SignerCli, name: &str) -> PathBuf {
    cli.path("home")
        .join("policies")
        .join(format!("{}.keys", policy(name).id()))
}

/// Writes `bytes` over the table, keeping its mode.
fn replace_table(path: &std::path::Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// The table with the record of hot receive index `from` put at index `to`
/// and a checksum that fits there (the layout in `policy::address_keys`):
/// an alteration only deriving again can find.
fn with_record_moved(bytes: &[u8], from: u32, to: u32) -> Vec<u8> {
    let header = 24 + 32 + 4 + 4;
    let id = &bytes[24..56];
    let max_index = u32::from_le_bytes(bytes[56..60].try_into().unwrap()) as usize;
    let len = |section: usize| bytes[60 + section] as usize * 64 + 34 + 4;
    // Sections: cold receive, cold change, hot receive, hot change.
    let start = header + (max_index + 1) * (len(0) + len(1));
    let at = |index: u32| start + index as usize * len(2);
    let mut out = bytes.to_vec();
    let body = bytes[at(from)..at(from) + len(2) - 4].to_vec();
    out[at(to)..at(to) + body.len()].copy_from_slice(&body);
    let mut engine = sha256::Hash::engine();
    engine.input(id);
    engine.input(&[2]);
    engine.input(&to.to_le_bytes());
    engine.input(&body);
    let check = sha256::Hash::from_engine(engine).to_byte_array();
    out[at(to) + body.len()..at(to) + len(2)].copy_from_slice(&check[..4]);
    out
}

/// A key holder of hot-1 with the example policy registered, the path of
/// its table, and a hot payout to sign (input file, output path).
fn key_holder() -> (SignerCli, PathBuf, PathBuf, PathBuf) {
    let exchange = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    let table = table_path(&cli, "regtest-exchange");
    let input = cli.write_psbt("payout.psbt", &hot_payout(&exchange, 1, BTC / 2));
    let output = cli.path("payout.signed");
    (cli, table, input, output)
}

/// `review --json INPUT`, parsed.
fn review_json(cli: &SignerCli, input: &std::path::Path) -> serde_json::Value {
    let out = cli
        .cmd()
        .args(["review", "--json"])
        .arg(input)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn register_makes_the_table_of_the_policy() {
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    let path = table_path(&cli, "regtest-exchange");
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let expected = AddressKeys::derive(&policy("regtest-exchange"));
    assert_eq!(std::fs::read(&path).unwrap(), expected.as_bytes());
}

#[test]
fn a_table_of_another_policy_is_refused_until_register_makes_it_anew() {
    let (cli, path, input, output) = key_holder();
    let other = AddressKeys::derive(&policy("regtest-taproot"));
    replace_table(&path, other.as_bytes());

    let before = Untouched::of(&cli, &input);
    cli.sign(&input, &output)
        .arg("--yes")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("address key table"))
        .stderr(predicates::str::contains("custodia-signer register"));
    before.assert_unchanged(&output);

    cli.cmd()
        .arg("register")
        .arg(crate_path("policies/regtest-exchange.toml"))
        .arg("--yes")
        .assert()
        .success()
        .stdout(predicates::str::contains("made anew"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        AddressKeys::derive(&policy("regtest-exchange")).as_bytes()
    );
    cli.sign(&input, &output).arg("--yes").assert().success();
}

#[test]
fn a_damaged_record_is_derived_from_the_policy_instead() {
    let (cli, path, input, output) = key_holder();
    let mut bytes = std::fs::read(&path).unwrap();
    // Flip one bit in every 1,000th byte: keys, scripts and checksums.
    for i in (100..bytes.len()).step_by(1000) {
        bytes[i] ^= 0x04;
    }
    replace_table(&path, &bytes);
    cli.sign(&input, &output).arg("--yes").assert().success();
}

#[test]
fn an_altered_record_sets_the_table_aside_and_the_review_says_so() {
    let (cli, path, input, _) = key_holder();
    // The payout spends hot receive index 2; index 3's record is put there.
    let bytes = std::fs::read(&path).unwrap();
    replace_table(&path, &with_record_moved(&bytes, 3, 2));

    cli.cmd()
        .arg("review")
        .arg(&input)
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "WARNING: this signer's address key table",
        ))
        .stdout(predicates::str::contains("WOULD SIGN"));
    let json = review_json(&cli, &input);
    assert_eq!(json["address_keys_set_aside"], true);
    assert_eq!(json["would_sign"], true);

    // Without the alteration the review is silent about the table.
    replace_table(&path, &bytes);
    let json = review_json(&cli, &input);
    assert!(json.get("address_keys_set_aside").is_none());
}

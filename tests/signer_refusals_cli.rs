//! Refusals through `custodia-signer` as a key holder or approver runs it:
//! exit 1, no output file, the input untouched and no entry added to the
//! signer's log.

mod signer_fixtures;

use std::path::{Path, PathBuf};

use bitcoin::Psbt;
use custodia::policy::Tier;
use signer_fixtures::*;

/// `approve INPUT --approver ID -o OUTPUT --yes` must exit 1, leaving everything as it was.
fn assert_approve_refused(cli: &SignerCli, psbt: &Psbt, approver: &str, rule: &str) {
    let input = cli.write_psbt("ask.psbt", psbt);
    let output = cli.path("ask.approved");
    let before = Untouched::of(cli, &input);
    cli.cmd()
        .arg("approve")
        .arg(&input)
        .args(["--approver", approver, "--yes", "-o"])
        .arg(&output)
        .assert()
        .code(1)
        .stderr(predicates::str::contains(rule));
    before.assert_unchanged(&output);
}

#[test]
fn cli_payout_cap_binds_the_transactions_total_not_each_output() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    // Two outputs of 0.6 BTC to one allowlisted payee: each under the 1 BTC
    // cap, together over it.
    let psbt = spend(
        &policy,
        &[(at(Tier::Hot, 0, 0), sat(3 * BTC))],
        &[
            (To::Address(payee(1)), sat(6 * BTC / 10)),
            (To::Address(payee(1)), sat(6 * BTC / 10)),
            (To::Vault(at(Tier::Hot, 1, 0)), sat(18 * BTC / 10 - 10_000)),
        ],
    );
    assert_sign_refused(&cli, &psbt, "amount");
}

#[test]
fn cli_change_beyond_the_policys_max_index_is_refused() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    let beyond = policy.rules().addresses().max_index() + 1;
    let psbt = spend(
        &policy,
        &[(at(Tier::Hot, 0, 0), sat(BTC))],
        &[
            (To::Address(payee(1)), sat(BTC / 2)),
            (To::Vault(at(Tier::Hot, 1, beyond)), sat(BTC / 2 - 10_000)),
        ],
    );
    assert_sign_refused(&cli, &psbt, "address-range");
}

#[test]
fn cli_daily_limit_share_refuses_without_output_or_log_entry() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("cold-4", "regtest-exchange");
    // A cold key holder's share of the 10 BTC limit is 6 BTC: 4 BTC signs,
    // another 4 BTC within the same 24 hours does not.
    let mut first = cold_to_hot(&policy, 4 * BTC);
    approve(&policy, &mut first, &["sato", "tanaka"]);
    let input = cli.write_psbt("first.psbt", &first);
    cli.sign(&input, cli.path("first.signed"))
        .arg("--yes")
        .assert()
        .success();
    let mut second = cold_to_hot(&policy, 4 * BTC + 1);
    approve(&policy, &mut second, &["sato", "tanaka"]);
    assert_sign_refused(&cli, &second, "daily-limit");
}

#[test]
fn cli_two_signing_sessions_at_once_cannot_share_one_allowance() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("cold-5", "regtest-exchange");
    // Two transfers of 3.5 BTC: each fits the 6 BTC share alone, both do not.
    let paths: Vec<(PathBuf, PathBuf)> = [35 * BTC / 10, 35 * BTC / 10 + 1]
        .into_iter()
        .enumerate()
        .map(|(n, amount)| {
            let mut psbt = cold_to_hot(&policy, amount);
            approve(&policy, &mut psbt, &["suzuki", "tanaka"]);
            (
                cli.write_psbt(&format!("t{n}.psbt"), &psbt),
                cli.path(&format!("t{n}.signed")),
            )
        })
        .collect();
    let log = cli.path("home").join("log.jsonl");
    let entries_before = std::fs::read_to_string(&log).unwrap().lines().count();
    // Both start together: each reviews against the same earlier total, and
    // unlocks its seed (a second or so of scrypt) before it records.
    let children: Vec<std::process::Child> = paths
        .iter()
        .map(|(input, output)| {
            let mut cmd =
                std::process::Command::new(assert_cmd::cargo::cargo_bin("custodia-signer"));
            cmd.env_remove("CUSTODIA_SIGNER_DIR")
                .arg("--data-dir")
                .arg(cli.path("home"))
                .arg("--passphrase-file")
                .arg(cli.path("pass"))
                .arg("sign")
                .arg(input)
                .arg("-o")
                .arg(output)
                .arg("--yes")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<i32> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().status.code().unwrap())
        .collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(sorted, [0, 1], "exactly one session signs: {codes:?}");
    let written = paths.iter().filter(|(_, out)| out.exists()).count();
    assert_eq!(written, 1);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), entries_before + 1);
    assert!(text.lines().last().unwrap().contains("\"kind\":\"sign\""));
}

#[test]
fn cli_an_approver_refuses_a_payout_from_cold() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("cold-1", "regtest-exchange");
    cli.import_approver("sato");
    let psbt = spend(
        &policy,
        &[(at(Tier::Cold, 0, 0), sat(BTC))],
        &[(To::Address(payee(1)), sat(BTC - 10_000))],
    );
    assert_approve_refused(&cli, &psbt, "sato", "destinations");
}

#[test]
fn cli_an_approver_refuses_a_change_hijack() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("cold-1", "regtest-exchange");
    cli.import_approver("suzuki");
    let mut psbt = cold_to_hot(&policy, 2 * BTC);
    // The derivation of cold change stays; the script is an outsider's.
    psbt.unsigned_tx.output[1].script_pubkey = payee(3).script_pubkey();
    assert_approve_refused(&cli, &psbt, "suzuki", "output-claims");
}

#[test]
fn cli_an_approver_approves_only_what_signers_would_then_sign() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-2", "regtest-exchange");
    cli.import_approver("tanaka");
    // Over the cold→hot amount limit (5 BTC): no approval can fix it.
    let psbt = cold_to_hot(&policy, 6 * BTC);
    assert_approve_refused(&cli, &psbt, "tanaka", "amount");
}

#[test]
fn cli_an_approver_sees_what_its_approval_adds_not_a_refusal() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("cold-1", "regtest-exchange");
    cli.import_approver("sato");
    cli.import_approver("suzuki");
    let approve = |input: &Path, who: &str, output: &Path| {
        let out = cli
            .cmd()
            .arg("approve")
            .arg(input)
            .args(["--approver", who, "--yes", "-o"])
            .arg(output)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    let input = cli.write_psbt("transfer.psbt", &cold_to_hot(&policy, 2 * BTC));
    let first = cli.path("transfer.sato.psbt");
    let seen = approve(&input, "sato", &first);
    assert!(seen.contains("  OPEN approvals"), "{seen}");
    assert!(
        !seen.contains("FAIL") && !seen.contains("REFUSED"),
        "{seen}"
    );
    assert!(
        seen.contains(
            "Verdict: APPROVABLE; with this approval by sato (treasury): 1 of 2 approvals, \
             from 1 of 2 departments (treasury); still needed: 1 more approval(s), \
             from 1 department(s) other than treasury"
        ),
        "{seen}"
    );
    let seen = approve(&first, "suzuki", &cli.path("transfer.both.psbt"));
    assert!(
        seen.contains(
            "with this approval by suzuki (compliance): 2 of 2 approvals, from 2 of 2 \
             departments (compliance, treasury); the quorum is met, the key holders can sign"
        ),
        "{seen}"
    );
}

#[test]
fn cli_an_approver_is_refused_only_for_what_no_approval_can_fix() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("cold-1", "regtest-exchange");
    cli.import_approver("sato");
    let input = cli.write_psbt("big.psbt", &cold_to_hot(&policy, 6 * BTC));
    let out = cli
        .cmd()
        .arg("approve")
        .arg(&input)
        .args(["--approver", "sato", "--yes", "-o"])
        .arg(cli.path("big.sato.psbt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let seen = String::from_utf8(out.stderr).unwrap();
    assert!(
        seen.contains("  OPEN approvals") && seen.contains("  FAIL amount"),
        "{seen}"
    );
    // Over the amount limit, and over this laptop's daily share: neither
    // can an approval fix.
    assert!(
        seen.contains("Verdict: REFUSED (2 rule(s) fail that no approval can fix)"),
        "{seen}"
    );
}

/// `register FILE --yes` must exit 1 naming `what`, leaving the registered
/// policies and the log as they were.
fn assert_register_refused(cli: &SignerCli, file: &str, what: &str) {
    assert_register_fails(cli, file, what, 1);
}

/// `register FILE --yes` must exit `code` naming `what`, leaving the
/// registered policies and the log as they were.
fn assert_register_fails(cli: &SignerCli, file: &str, what: &str, code: i32) {
    let home = cli.path("home");
    let listing = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let policies_before = listing(&home.join("policies"));
    let log_before = std::fs::read(home.join("log.jsonl")).unwrap();
    cli.cmd()
        .args(["register", "--yes"])
        .arg(crate_path(file))
        .assert()
        .code(code)
        .stderr(predicates::str::contains(what));
    assert_eq!(listing(&home.join("policies")), policies_before);
    assert_eq!(std::fs::read(home.join("log.jsonl")).unwrap(), log_before);
}

#[test]
fn cli_a_drill_vault_reusing_the_cold_keys_cannot_sign_a_cold_spend_as_a_hot_payout() {
    let exchange = policy("regtest-exchange");
    let cli = SignerCli::new("cold-1", "regtest-exchange");
    let drill_file = "tests/data/policies/attacks/drill-with-the-cold-keys-as-hot.toml";
    assert_register_refused(&cli, drill_file, "a key serves one vault and one tier");
    // A cold spend to a stranger, tagged as the drill: not signed.
    let drill = custodia::policy::VaultPolicy::load(&crate_path(drill_file)).unwrap();
    let mut psbt = spend(
        &exchange,
        &[(at(Tier::Cold, 0, 0), sat(BTC))],
        &[(To::Address(payee(3)), sat(BTC - 10_000))],
    );
    psbt.proprietary.clear();
    custodia::psbt::set_policy_id(&mut psbt, drill.id()).unwrap();
    assert_sign_refused(&cli, &psbt, "has not registered");
}

#[test]
fn cli_a_replacement_swapping_cold_and_hot_keys_is_refused() {
    let cli = SignerCli::new("hot-2", "regtest-exchange");
    let home = cli.path("home");
    let before = std::fs::read(home.join("log.jsonl")).unwrap();
    cli.cmd()
        .args(["register", "--yes", "--replace"])
        .arg(crate_path(
            "tests/data/policies/attacks/exchange-with-tiers-swapped.toml",
        ))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("a key serves one tier"));
    assert_eq!(std::fs::read(home.join("log.jsonl")).unwrap(), before);
}

#[test]
fn cli_a_policy_of_another_network_or_stating_another_xpub_is_refused() {
    let cli = SignerCli::new("cold-2", "regtest-taproot");
    assert_register_refused(
        &cli,
        "policies/mainnet-template.toml",
        "a key serves one network",
    );
    assert_register_refused(
        &cli,
        "tests/data/policies/attacks/xpubs-not-of-their-seeds.toml",
        "this seed derives",
    );
}

#[test]
fn cli_a_wallet_with_two_keys_of_one_seed_cannot_be_registered() {
    // An invalid policy is bad input (exit 2): one seed would give two of the
    // cold wallet's signatures.
    let cli = SignerCli::new("cold-1", "regtest-taproot");
    assert_register_fails(
        &cli,
        "tests/data/policies/bad/two-keys-of-one-seed-in-a-wallet.toml",
        "come from one seed",
        2,
    );
}

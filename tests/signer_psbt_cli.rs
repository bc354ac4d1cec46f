//! custodia-signer's `review`, `sign` and `approve` from the command line:
//! exit codes, confirmation, the log written before the output, never
//! overwriting, formats, stdin, and daily limits from the signer's own log.

mod signer_fixtures;

use custodia::psbt::PsbtDocument;
use predicates::prelude::PredicateBooleanExt;
use signer_fixtures::*;

#[test]
fn cli_review_sign_and_approve_with_exit_codes() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("cold-1", "regtest-exchange");

    // Garbage and truncated PSBTs: exit 2.
    let garbage = cli.path("garbage.psbt");
    std::fs::write(&garbage, "this is not a psbt").unwrap();
    cli.cmd().arg("review").arg(&garbage).assert().code(2);
    cli.cmd()
        .arg("review")
        .arg(cli.path("no-such-file.psbt"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("check the path"));
    let psbt = cold_to_hot(&policy, 2 * BTC);
    let truncated = cli.path("truncated.psbt");
    let bytes = psbt.serialize();
    std::fs::write(&truncated, &bytes[..bytes.len() - 7]).unwrap();
    cli.cmd().arg("review").arg(&truncated).assert().code(2);

    // Without approvals the transfer is refused: exit 1, and sign writes nothing.
    let unapproved = cli.write_psbt("unapproved.psbt", &psbt);
    let out = cli
        .cmd()
        .args(["review", "--json"])
        .arg(&unapproved)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["would_sign"], false);
    cli.sign(&unapproved, cli.path("never.psbt"))
        .arg("--yes")
        .assert()
        .code(1);
    assert!(!cli.path("never.psbt").exists());

    // Two approvers approve through the CLI (any signer machine can hold approval keys).
    cli.import_approver("sato");
    cli.import_approver("tanaka");
    cli.cmd()
        .arg("approve")
        .arg(&unapproved)
        .args(["--approver", "sato", "--yes", "-o"])
        .arg(cli.path("a1.psbt"))
        .assert()
        .success();
    cli.cmd()
        .arg("approve")
        .arg(cli.path("a1.psbt"))
        .args(["--approver", "tanaka", "--yes", "-o"])
        .arg(cli.path("a2.psbt"))
        .assert()
        .success();
    cli.cmd()
        .arg("review")
        .arg(cli.path("a2.psbt"))
        .assert()
        .success();

    // Sign: the output is new, the input untouched, the log has the entry.
    let before = std::fs::read(cli.path("a2.psbt")).unwrap();
    cli.sign(cli.path("a2.psbt"), cli.path("signed.psbt"))
        .arg("--yes")
        .assert()
        .success();
    assert_eq!(std::fs::read(cli.path("a2.psbt")).unwrap(), before);
    let signed = PsbtDocument::read(&cli.path("signed.psbt")).unwrap();
    assert_eq!(signed.encoding(), custodia::psbt::Encoding::Base64);
    assert_eq!(signed.psbt().inputs[0].partial_sigs.len(), 1);
    let log = custodia::audit::EventLog::new(cli.path("home/log.jsonl"));
    let entries = log.verify().unwrap().entries;
    let sign = entries.iter().rev().find(|e| e.kind() == "sign").unwrap();
    assert_eq!(sign.event["movement"], "cold-to-hot");
    assert_eq!(sign.event["amount_sat"], 2 * BTC);
    assert_eq!(sign.event["inputs_signed"], 1);

    // Never overwrites: the same output again is refused.
    cli.sign(cli.path("a2.psbt"), cli.path("signed.psbt"))
        .arg("--yes")
        .assert()
        .code(2);

    // Binary output on request.
    cli.sign(cli.path("a2.psbt"), cli.path("signed.bin"))
        .args(["--yes", "--format", "binary"])
        .assert()
        .success();
    assert!(std::fs::read(cli.path("signed.bin"))
        .unwrap()
        .starts_with(b"psbt\xff"));

    // Without --yes and no one to confirm, nothing is signed.
    cli.sign(cli.path("a2.psbt"), cli.path("unconfirmed.psbt"))
        .write_stdin("n\n")
        .assert()
        .code(1);
    assert!(!cli.path("unconfirmed.psbt").exists());
}

#[test]
fn cli_refuses_a_psbt_of_an_unregistered_or_missing_policy() {
    let taproot = policy("regtest-taproot");
    let cli = SignerCli::new("cold-1", "regtest-exchange");
    let psbt = cold_to_hot(&taproot, BTC);
    let f = cli.write_psbt("other.psbt", &psbt);
    cli.cmd()
        .arg("review")
        .arg(&f)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("not registered"));
    let mut untagged = psbt.clone();
    untagged.proprietary.clear();
    let f = cli.write_psbt("untagged.psbt", &untagged);
    cli.cmd()
        .arg("review")
        .arg(&f)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("coordinator"));
}

#[test]
fn cli_signer_without_a_key_of_the_wallet_refuses_before_the_passphrase() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("cold-1", "regtest-exchange");
    let f = cli.write_psbt("payout.psbt", &hot_payout(&policy, 1, BTC / 2));
    cli.cmd().arg("review").arg(&f).assert().success();
    cli.sign(&f, cli.path("out.psbt"))
        .arg("--yes")
        .arg("--passphrase-file")
        .arg(cli.path("does-not-exist"))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("holds no key of the hot wallet"));
    assert!(!cli.path("out.psbt").exists());
}

#[test]
fn cli_daily_limit_comes_from_the_signers_own_log() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("cold-2", "regtest-exchange");
    // Three different approved transfers of 2.9 BTC (fee 0.0001 BTC each): a
    // cold key holder signs at most its share of the 10 BTC limit, 10 × 3/5 =
    // 6 BTC in 24 hours, so two fit and the third does not.
    for (n, amount) in [
        (1, 29 * BTC / 10),
        (2, 29 * BTC / 10 + 1),
        (3, 29 * BTC / 10 + 2),
    ] {
        let mut psbt = cold_to_hot(&policy, amount);
        approve(&policy, &mut psbt, &["ito", "tanaka"]);
        let input = cli.write_psbt(&format!("t{n}.psbt"), &psbt);
        let output = cli.path(&format!("t{n}.signed"));
        // Read from standard input this time.
        let assert = cli
            .cmd()
            .args(["sign", "-", "--yes", "-o"])
            .arg(&output)
            .pipe_stdin(&input)
            .unwrap()
            .assert();
        if n < 3 {
            assert.success();
            assert!(output.exists());
        } else {
            assert
                .code(1)
                .stderr(predicates::str::contains("daily-limit"));
            assert!(!output.exists());
        }
    }
    // Signing the first one again does not count it twice.
    cli.cmd()
        .arg("sign")
        .arg(cli.path("t1.psbt"))
        .args(["--yes", "-o"])
        .arg(cli.path("t1.again"))
        .assert()
        .success();
}

#[test]
fn psbts_made_by_other_wallets_are_reviewed_against_an_explicit_registered_policy() {
    let exchange = policy("regtest-exchange");
    let cli = SignerCli::new("cold-1", "regtest-exchange");
    // The same cold→hot spend as a wallet without custodia's fields (Bitcoin
    // Core, Sparrow) would build it: no policy id.
    let mut untagged = cold_to_hot(&exchange, 2 * BTC);
    untagged.proprietary.clear();
    let file = cli.write_psbt("from-core.psbt", &untagged);

    cli.cmd()
        .arg("review")
        .arg(&file)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("names no vault policy"));

    // Named explicitly, it is reviewed like any other: only the approvals are missing.
    let id = exchange.id().to_string();
    let out = cli
        .cmd()
        .args(["review", "--json", "--policy-id", &id])
        .arg(&file)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let failing: Vec<&str> = json["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["passed"] == false)
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(failing, ["approvals"], "{json}");

    // An approval written for it carries the policy id from then on.
    cli.import_approver("sato");
    cli.cmd()
        .args(["approve", "--approver", "sato", "--yes", "--policy-id", &id])
        .arg(&file)
        .arg("-o")
        .arg(cli.path("approved.psbt"))
        .assert()
        .success();
    let approved = PsbtDocument::read(&cli.path("approved.psbt")).unwrap();
    assert_eq!(
        custodia::psbt::policy_tag(approved.psbt()),
        custodia::psbt::PolicyTag::Present(exchange.id())
    );

    // A policy this signer never registered, or one the PSBT contradicts: refused.
    let taproot = policy("regtest-taproot").id().to_string();
    cli.cmd()
        .args(["review", "--policy-id", &taproot])
        .arg(&file)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("has not registered"));
    cli.cmd()
        .args(["review", "--policy-id", &taproot])
        .arg(cli.path("approved.psbt"))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("as given with --policy-id"));
}

/// Writes `policy`'s canonical file into the signer's `policies/` by hand,
/// as someone with access to the data directory could.
fn place_policy_file(
    cli: &SignerCli,
    policy: &custodia::policy::VaultPolicy,
) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = cli.path(&format!("home/policies/{}.toml", policy.id()));
    std::fs::write(&path, policy.to_toml()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

#[test]
fn cli_policy_file_without_register_entry_is_not_registered() {
    let taproot = policy("regtest-taproot");
    let cli = SignerCli::new("cold-1", "regtest-exchange");
    let placed = place_policy_file(&cli, &taproot);
    // A PSBT that passes every rule of the placed policy.
    let mut psbt = cold_to_hot(&taproot, BTC);
    approve(&taproot, &mut psbt, &["sato", "tanaka"]);
    for cmd in ["review", "sign"] {
        let input = cli.write_psbt(&format!("{cmd}.psbt"), &psbt);
        let log_before = std::fs::read(cli.path("home/log.jsonl")).unwrap();
        let mut c = match cmd {
            "sign" => {
                let mut c = cli.sign(&input, cli.path("never.psbt"));
                c.arg("--yes");
                c
            }
            _ => {
                let mut c = cli.cmd();
                c.arg("review").arg(&input);
                c
            }
        };
        c.assert()
            .code(1)
            .stderr(predicates::str::contains("no `register` entry"))
            .stderr(predicates::str::contains("custodia-signer register"));
        assert!(!cli.path("never.psbt").exists());
        assert_eq!(
            std::fs::read(cli.path("home/log.jsonl")).unwrap(),
            log_before
        );
    }
    // `policies` lists only what is registered, and warns of the file.
    cli.cmd()
        .arg("policies")
        .assert()
        .success()
        .stdout(predicates::str::contains(
            policy("regtest-exchange").id().to_string(),
        ))
        .stdout(predicates::str::contains(taproot.id().to_string()).not())
        .stderr(predicates::str::contains("WARNING"));
    // Registering it properly adopts the file (it holds the same policy).
    cli.cmd()
        .arg("register")
        .arg(crate_path("policies/regtest-taproot.toml"))
        .arg("--yes")
        .assert()
        .success();
    assert!(placed.exists());
    cli.cmd()
        .arg("review")
        .arg(cli.path("review.psbt"))
        .assert()
        .success();
}

#[test]
fn cli_retired_policy_put_back_is_not_registered() {
    let exchange = policy("regtest-exchange");
    let cli = SignerCli::new("cold-1", "regtest-exchange");
    let changed = custodia::policy::VaultPolicy::from_toml(
        &std::fs::read_to_string(crate_path("policies/regtest-exchange.toml"))
            .unwrap()
            .replacen("max_amount = \"5 BTC\"", "max_amount = \"4 BTC\"", 1),
    )
    .unwrap();
    let changed_file = cli.path("changed.toml");
    std::fs::write(&changed_file, changed.to_toml()).unwrap();
    cli.cmd()
        .arg("register")
        .arg(&changed_file)
        .args(["--yes", "--replace"])
        .assert()
        .success();
    // The replaced policy's address key table went with it; the new
    // policy has its own.
    let table = |id: custodia::policy::PolicyId| {
        cli.path("home").join("policies").join(format!("{id}.keys"))
    };
    assert!(!table(exchange.id()).exists());
    assert!(table(changed.id()).exists());
    // The retired file copied back into policies/.
    place_policy_file(&cli, &exchange);
    let mut psbt = cold_to_hot(&exchange, 2 * BTC);
    approve(&exchange, &mut psbt, &["sato", "suzuki"]);
    let input = cli.write_psbt("old-policy.psbt", &psbt);
    cli.cmd()
        .arg("review")
        .arg(&input)
        .assert()
        .code(1)
        .stderr(predicates::str::contains(format!(
            "which policy {} replaced",
            changed.id()
        )));
}

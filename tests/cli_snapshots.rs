//! The text people read, pinned: `--help` of the three programs and their
//! main commands, the policy report, and what a key holder and an approver
//! see before they decide. A change here is a change for users: review the
//! new snapshot (`cargo insta review`, or the `.snap.new` file) and say so.
#![cfg(feature = "online")]

mod signer_fixtures;

use assert_cmd::Command;
use signer_fixtures::*;

/// Runs a program with no custodia settings from the environment, and
/// returns what it printed on stdout (and stderr, if `stderr`).
fn run(program: &str, args: &[&str], stderr: bool) -> String {
    let mut cmd = Command::cargo_bin(program).unwrap();
    for var in [
        "CUSTODIA_COORDINATOR_DIR",
        "CUSTODIA_SIGNER_DIR",
        "CUSTODIA_RPC_URL",
        "CUSTODIA_RPC_COOKIE",
        "CUSTODIA_RPC_USER",
        "CUSTODIA_RPC_PASS",
    ] {
        cmd.env_remove(var);
    }
    // Snapshots are of an offline laptop, whatever the test machine's network.
    cmd.env(
        "CUSTODIA_NET_CLASS_DIR",
        "/nonexistent/custodia/no-network-interfaces",
    );
    let out = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap();
    let mut text = String::from_utf8(out.stdout).unwrap();
    if stderr {
        text.push_str(&String::from_utf8(out.stderr).unwrap());
    }
    text
}

#[test]
fn help_of_every_program_and_main_command() {
    let cases: &[(&str, &[&str])] = &[
        ("custodia-coordinator", &["--help"]),
        ("custodia-coordinator", &["propose", "transfer", "--help"]),
        ("custodia-coordinator", &["propose", "payout", "--help"]),
        ("custodia-coordinator", &["finalize", "--help"]),
        ("custodia-signer", &["--help"]),
        ("custodia-signer", &["sign", "--help"]),
        ("custodia-signer", &["approve", "--help"]),
        ("custodia-signer", &["register", "--help"]),
        ("custodia-auditor", &["--help"]),
        ("custodia-auditor", &["balances", "--help"]),
        ("custodia-auditor", &["log", "verify", "--help"]),
    ];
    for (program, args) in cases {
        let name = format!("{program} {}", args.join(" "))
            .replace(' ', "_")
            .replace("--", "");
        insta::assert_snapshot!(name, run(program, args, false));
    }
}

#[test]
fn policy_show() {
    let args = ["policy", "show", "policies/regtest-exchange.toml"];
    insta::assert_snapshot!(run("custodia-coordinator", &args, false));
}

#[test]
fn what_a_key_holder_and_an_approver_see() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("cold-1", "regtest-exchange");
    cli.import_approver("sato");
    let input = cli.write_psbt("transfer.psbt", &cold_to_hot(&policy, 2 * BTC));
    let review = cli.cmd().arg("review").arg(&input).output().unwrap();
    insta::assert_snapshot!(
        "key_holder_review_without_approvals",
        String::from_utf8(review.stdout).unwrap()
    );
    let approve = cli
        .cmd()
        .arg("approve")
        .arg(&input)
        .args(["--approver", "sato", "--yes", "-o"])
        .arg(cli.path("transfer.sato.psbt"))
        .output()
        .unwrap();
    // The summary is on stderr; stdout names the temporary output file.
    let seen = String::from_utf8(approve.stderr).unwrap();
    insta::assert_snapshot!("approver_summary", seen);
}

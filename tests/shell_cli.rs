//! The programs as shell tools: a reader that goes away (`custodia-… |
//! head`) ends them quietly (no panic message, the exit code a shell gives a
//! program SIGPIPE ended, 141), a password on the command line is warned
//! about, and with `--json` errors are JSON too.

use std::process::{Command, Stdio};

/// Runs `program args` with its standard output a pipe whose reading end
/// is closed at once; returns the exit code and what it said on stderr.
fn with_closed_stdout(program: &str, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin(program))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env(
            "CUSTODIA_NET_CLASS_DIR",
            "/nonexistent/no-network-interfaces",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_ends_the_programs_quietly() {
    let policy = "policies/regtest-exchange.toml";
    for (program, args) in [
        (
            "custodia-coordinator",
            vec!["policy", "descriptors", policy, "--json"],
        ),
        ("custodia-coordinator", vec!["policy", "show", policy]),
        ("custodia-signer", vec!["selftest"]),
    ] {
        let (code, stderr) = with_closed_stdout(program, &args);
        assert_eq!(code, Some(141), "{program} {args:?}: {stderr}");
        assert!(stderr.is_empty(), "{program} {args:?} said: {stderr}");
    }
}

#[test]
fn a_password_on_the_command_line_is_warned_about() {
    for program in ["custodia-coordinator", "custodia-auditor"] {
        let out = Command::new(assert_cmd::cargo::cargo_bin(program))
            .args(["--rpc-user", "u", "--rpc-pass", "secret", "--help"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--rpc-pass on the command line is visible to other users"),
            "{program}: {stderr}"
        );
        assert!(stderr.contains("CUSTODIA_RPC_PASS"), "{program}: {stderr}");
    }
    let out = Command::new(assert_cmd::cargo::cargo_bin("custodia-coordinator"))
        .args(["--help"])
        .env("CUSTODIA_RPC_PASS", "secret")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).is_empty());
}

#[test]
fn with_json_errors_are_json_too() {
    let run = |args: &[&str]| {
        let out = Command::new(assert_cmd::cargo::cargo_bin("custodia-coordinator"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // A failure of the command.
    let (code, stderr) = run(&["policy", "check", "/nonexistent/vault.toml", "--json"]);
    assert_eq!(code, Some(2));
    let error: serde_json::Value = serde_json::from_str(stderr.trim()).unwrap();
    assert_eq!(error["exit_code"], 2);
    assert!(error["error"]
        .as_str()
        .unwrap()
        .contains("cannot read policy file"));
    // A usage error.
    let (code, stderr) = run(&["policy", "check", "--no-such-flag", "--json"]);
    assert_eq!(code, Some(2));
    let error: serde_json::Value = serde_json::from_str(stderr.trim()).unwrap();
    assert_eq!(error["exit_code"], 2);
    assert!(error["error"].as_str().unwrap().contains("--no-such-flag"));
    // Without --json, text for people.
    let (code, stderr) = run(&["policy", "check", "/nonexistent/vault.toml"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("error: cannot read policy file"),
        "{stderr}"
    );
}

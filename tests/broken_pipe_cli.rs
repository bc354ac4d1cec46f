//! A reader that goes away (`custodia-… | head`) ends the programs quietly:
//! no panic message, the exit code a shell gives a program SIGPIPE ended
//! (141).

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

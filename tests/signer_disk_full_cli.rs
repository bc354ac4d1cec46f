//! A signature that cannot be written is not logged: the signed PSBT goes
//! to a file system with no room left, or a read-only one (a tmpfs mounted
//! in a private user and mount namespace, so no privilege is needed), and
//! the signer exits 3, leaving no output and no log entry; with room, the
//! same command signs.

mod signer_fixtures;

use std::process::Command;

use signer_fixtures::*;

/// Runs `custodia-signer ARGS` with a tmpfs mounted at `mount` with
/// `options` (`size=16k`: full at once; `ro`: read-only).
fn sign_onto(
    cli: &SignerCli,
    mount: &std::path::Path,
    options: &str,
    args: &[&std::ffi::OsStr],
) -> std::process::Output {
    let signer = assert_cmd::cargo::cargo_bin("custodia-signer");
    let mut command = Command::new("unshare");
    command
        .args([
            "-Urm",
            "sh",
            "-c",
            "mount -t tmpfs -o \"$1\" tiny \"$2\" && shift 2 && exec \"$@\"",
            "sh",
        ])
        .arg(options)
        .arg(mount)
        .arg(signer)
        .arg("--data-dir")
        .arg(cli.path("home"))
        .arg("--passphrase-file")
        .arg(cli.path("pass"))
        .args(args)
        .env("CUSTODIA_NET_CLASS_DIR", cli.path("no-network-interfaces"));
    command.output().unwrap()
}

#[test]
fn a_full_disk_leaves_no_output_and_no_log_entry() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    // A consolidation big enough not to fit: 100 inputs with their previous
    // transactions, tens of kilobytes.
    let inputs: Vec<_> = (0..100)
        .map(|i| (at(custodia::policy::Tier::Hot, 0, i), sat(BTC / 10)))
        .collect();
    let psbt = spend(
        &policy,
        &inputs,
        &[(
            To::Vault(at(custodia::policy::Tier::Hot, 1, 0)),
            sat(10 * BTC - 100_000),
        )],
    );
    let input = cli.write_psbt("big.psbt", &psbt);
    let disk = cli.path("disk");
    std::fs::create_dir(&disk).unwrap();
    for (options, says) in [
        ("size=16k", "No space left on device"),
        ("ro", "Read-only file system"),
    ] {
        let before = Untouched::of(&cli, &input);
        let output = disk.join("big.signed.psbt");
        let out = sign_onto(
            &cli,
            &disk,
            options,
            &[
                "sign".as_ref(),
                input.as_os_str(),
                "-o".as_ref(),
                output.as_os_str(),
                "--yes".as_ref(),
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{options}: {stderr}");
        assert!(stderr.contains(says), "{options}: {stderr}");
        // The tmpfs is gone with the namespace; nothing was written outside
        // it, and the log has no entry.
        before.assert_unchanged(&output);
        assert_eq!(std::fs::read_dir(&disk).unwrap().count(), 0);
    }

    cli.sign(&input, cli.path("big.signed.psbt"))
        .arg("--yes")
        .assert()
        .success();
}

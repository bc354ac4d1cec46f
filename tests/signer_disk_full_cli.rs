//! A signature that cannot be written is not logged: the signed PSBT goes
//! to a file system with no room left, or a read-only one (a tmpfs mounted
//! in a private user and mount namespace, so no privilege is needed), and
//! the signer exits 3, leaving no output and no log entry; with room, the
//! same command signs. And a signature that cannot be logged is not
//! written: with the signer's home read-only, it exits 3 and writes no PSBT.

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

/// Runs `custodia-signer sign INPUT -o OUTPUT --yes` with the signer's home
/// copied onto a tmpfs that is then made read-only; returns the
/// output and how many lines the copied log had afterwards. (A full tmpfs
/// is not tried here: the log's last page usually has room for one more
/// entry, so the entry is written and the signature is legitimately made.)
fn sign_with_home_on(
    cli: &SignerCli,
    disk: &std::path::Path,
    input: &std::path::Path,
    output: &std::path::Path,
) -> (std::process::Output, usize) {
    let signer = assert_cmd::cargo::cargo_bin("custodia-signer");
    let lines = cli.path("log-lines");
    let script = r#"
        disk=$1 home=$2 lines=$3; shift 3
        mount -t tmpfs -o size=8m tiny "$disk" && cp -a "$home" "$disk/home" || exit 99
        mount -o remount,ro "$disk" || exit 99
        "$@" --data-dir "$disk/home"
        code=$?
        wc -l < "$disk/home/log.jsonl" > "$lines"
        exit $code
    "#;
    let out = Command::new("unshare")
        .args(["-Urm", "sh", "-c", script, "sh"])
        .arg(disk)
        .arg(cli.path("home"))
        .arg(&lines)
        .arg(signer)
        .arg("--passphrase-file")
        .arg(cli.path("pass"))
        .arg("sign")
        .arg(input)
        .arg("-o")
        .arg(output)
        .arg("--yes")
        .env("CUSTODIA_NET_CLASS_DIR", cli.path("no-network-interfaces"))
        .output()
        .unwrap();
    let count = std::fs::read_to_string(&lines).unwrap_or_default();
    (out, count.trim().parse().unwrap_or(usize::MAX))
}

#[test]
fn a_read_only_signer_home_refuses_and_writes_no_psbt() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    let psbt = spend(
        &policy,
        &[(at(custodia::policy::Tier::Hot, 0, 0), sat(BTC))],
        &[(
            To::Vault(at(custodia::policy::Tier::Hot, 1, 0)),
            sat(BTC - 10_000),
        )],
    );
    let input = cli.write_psbt("small.psbt", &psbt);
    let disk = cli.path("disk");
    std::fs::create_dir(&disk).unwrap();
    let lines_before = std::fs::read_to_string(cli.path("home").join("log.jsonl"))
        .unwrap()
        .lines()
        .count();
    let output = cli.path("small.signed.psbt");
    let (out, lines_after) = sign_with_home_on(&cli, &disk, &input, &output);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("Read-only file system"), "{stderr}");
    assert!(!output.exists(), "a PSBT was written without its log entry");
    assert_eq!(lines_after, lines_before, "the log gained an entry");
}

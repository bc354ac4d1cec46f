//! The signer makes itself non-dumpable: aborted while it waits at its
//! confirmation prompt (the review done, the registered policy read), it
//! writes no core file, where an ordinary process aborted the same way does.

mod signer_fixtures;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use signer_fixtures::*;

/// Runs `program args` in `dir` with core dumps allowed, aborts it with
/// SIGABRT after `wait`, and says whether a core file appeared in `dir`.
fn core_written(dir: &Path, program: &Path, args: &[&std::ffi::OsStr], wait: Duration) -> bool {
    let mut child = Command::new("sh")
        .args(["-c", "ulimit -c unlimited && exec \"$@\"", "sh"])
        .arg(program)
        .args(args)
        .current_dir(dir)
        .env("CUSTODIA_NET_CLASS_DIR", dir.join("no-network-interfaces"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(wait);
    let killed = Command::new("kill")
        .args(["-ABRT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait().unwrap();
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("core"))
}

#[test]
fn an_aborted_signer_leaves_no_core_file() {
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap();
    assert!(
        !pattern.starts_with('|'),
        "core files go to a handler ({pattern}); this test needs a plain core_pattern such as `core`"
    );
    // An ordinary process aborted the same way writes one: the test can see
    // a core file when there is one.
    let control = tempfile::tempdir().unwrap();
    assert!(
        core_written(
            control.path(),
            Path::new("/bin/sleep"),
            &["30".as_ref()],
            Duration::from_millis(300)
        ),
        "no core file from an aborted `sleep`; core_pattern is {pattern}"
    );

    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    let input = cli.write_psbt("payout.psbt", &hot_payout(&policy, 1, BTC / 2));
    let work = cli.path("work");
    std::fs::create_dir(&work).unwrap();
    let signer = assert_cmd::cargo::cargo_bin("custodia-signer");
    let home = cli.path("home");
    let pass = cli.path("pass");
    let out = cli.path("signed.psbt");
    let args: [&std::ffi::OsStr; 8] = [
        "--data-dir".as_ref(),
        home.as_os_str(),
        "--passphrase-file".as_ref(),
        pass.as_os_str(),
        "sign".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ];
    // Without --yes it waits at "Sign this transaction?" on its standard
    // input, which stays open.
    assert!(!core_written(&work, &signer, &args, Duration::from_secs(2)));
    assert!(!out.exists());
}

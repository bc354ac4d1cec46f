//! Shared by the QR tests: vault PSBTs of any number of inputs, the
//! published vectors, and the two Debian tools used as independent
//! implementations (`zbarimg` reads, `qrencode` renders). A missing tool is
//! a failure, not a skip: `scripts/test` installs both.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use bitcoin::Psbt;
use custodia::policy::{Tier, VaultPolicy};

use crate::signer_fixtures::{at, sat, spend, To, BTC};

/// `custodia-signer` with its data directory at `dir/home`, for `qr encode`
/// and `qr decode`.
pub fn signer_cmd(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("custodia-signer").unwrap();
    cmd.env("CUSTODIA_SIGNER_DIR", dir.join("home"));
    cmd
}

/// A hot→cold PSBT of the example vault with `n` inputs, every field a
/// coordinator fills (full previous transactions included).
pub fn psbt_with_inputs(policy: &VaultPolicy, n: u32) -> Psbt {
    let inputs: Vec<_> = (0..n)
        .map(|i| (at(Tier::Hot, 0, i % 500), sat(BTC / 10)))
        .collect();
    let total = u64::from(n) * BTC / 10;
    spend(
        policy,
        &inputs,
        &[(
            To::Vault(at(Tier::Cold, 0, 7)),
            sat(total - 20_000 - u64::from(n) * 100),
        )],
    )
}

/// A file of the published vectors.
pub fn vector(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/qr")
        .join(name)
}

/// The non-empty lines of a vector file.
pub fn vector_lines(name: &str) -> Vec<String> {
    std::fs::read_to_string(vector(name))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Bytes from a hex vector file.
pub fn vector_hex(name: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(vector(name)).unwrap();
    let text = text.trim();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn tool(name: &str) -> Command {
    // Fails loudly rather than skipping: the project's scripts install it.
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .unwrap();
    assert!(
        found.status.success(),
        "{name} is not installed: run scripts/test (it installs zbar-tools and qrencode) or apt-get install zbar-tools qrencode"
    );
    Command::new(name)
}

/// What ZBar's `zbarimg` reads in a PNG.
pub fn zbarimg(png: &Path) -> String {
    let out = tool("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(png)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "zbarimg read nothing in {}",
        png.display()
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end_matches('\n')
        .to_owned()
}

/// `text` rendered as a QR code PNG by `qrencode`.
pub fn qrencode(text: &str, png: &Path) {
    let status = tool("qrencode")
        .args(["-l", "L", "-s", "6", "-o"])
        .arg(png)
        .arg(text)
        .status()
        .unwrap();
    assert!(status.success(), "qrencode failed");
}

/// The `.png` files of a directory, in name order.
pub fn pngs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    files.sort();
    files
}

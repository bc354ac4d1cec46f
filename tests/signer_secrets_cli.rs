//! No secret leaves the signer's encrypted files: a key holder's life —
//! restore from known words under a known passphrase, register, show the
//! account keys, sign, approve with an imported approval key, back up to an
//! age recipient, verify the log — and then every byte the signer wrote
//! (data dir, outputs, backup) and printed is searched for the words, the
//! passphrase, the BIP-39 seed, the master private key and the approval
//! secret, as text, hex and raw bytes. (That no core dump holds them is
//! `signer_core_dump_cli.rs`: the signer writes none.)

mod signer_fixtures;

use bitcoin::hashes::hex::DisplayHex;
use signer_fixtures::*;

/// Every form a secret could leak in.
fn forms(name: &str, bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    vec![
        (format!("{name} (raw)"), bytes.to_vec()),
        (
            format!("{name} (hex)"),
            bytes.to_lower_hex_string().into_bytes(),
        ),
    ]
}

fn all_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn no_secret_is_written_or_printed_in_the_clear() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    cli.import_approver("sato");
    let mut printed = Vec::new();
    let mut run = |cmd: &mut assert_cmd::Command| {
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        printed.extend(out.stdout);
        printed.extend(out.stderr);
    };
    run(cli.cmd().args(["xpub", "--json"]));
    let payout = cli.write_psbt("payout.psbt", &hot_payout(&policy, 1, BTC / 2));
    run(cli
        .sign(&payout, cli.path("payout.signed.psbt"))
        .arg("--yes"));
    let transfer = cli.write_psbt("transfer.psbt", &cold_to_hot(&policy, 2 * BTC));
    run(cli
        .cmd()
        .arg("approve")
        .arg(&transfer)
        .args(["--approver", "sato", "--yes", "-o"])
        .arg(cli.path("transfer.approved.psbt")));
    let recipient = age::x25519::Identity::generate().to_public().to_string();
    run(cli
        .cmd()
        .args(["backup", "--recipient", &recipient, "-o"])
        .arg(cli.path("seed.backup")));
    run(cli.cmd().args(["log", "verify"]));
    run(cli.cmd().args(["approver", "list"]));

    // The secrets, as the test knows them.
    let words = mnemonic("hot-1");
    let passphrase = std::fs::read_to_string(cli.path("pass")).unwrap();
    let seed = bip39::Mnemonic::parse(&words).unwrap().to_seed("");
    let master = master_xpriv("hot-1");
    let approver = approver_keypair("sato").secret_bytes();
    let mut secrets = vec![
        ("words".to_owned(), words.clone().into_bytes()),
        // Four words in a row are already too many.
        (
            "first words".to_owned(),
            words
                .split(' ')
                .take(4)
                .collect::<Vec<_>>()
                .join(" ")
                .into_bytes(),
        ),
        (
            "passphrase".to_owned(),
            passphrase.trim().as_bytes().to_vec(),
        ),
        ("master xprv".to_owned(), master.to_string().into_bytes()),
    ];
    secrets.extend(forms("BIP-39 seed", &seed));
    secrets.extend(forms(
        "master private key",
        &master.private_key.secret_bytes(),
    ));
    secrets.extend(forms("approval secret", &approver));

    // The files that held them on the way in are the test's, not the signer's.
    for input in ["pass", "words", "sato.secret"] {
        std::fs::remove_file(cli.path(input)).unwrap();
    }
    let mut files = Vec::new();
    all_files(cli.dir.path(), &mut files);
    assert!(files.len() >= 8, "{files:?}");
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for (name, secret) in &secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_slice()),
                "{} holds the {name}",
                file.display()
            );
        }
    }
    for (name, secret) in &secrets {
        assert!(
            !printed
                .windows(secret.len())
                .any(|w| w == secret.as_slice()),
            "the signer printed the {name}"
        );
    }
}

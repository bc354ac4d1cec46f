//! Compact PSBTs through QR frames (`--qr-compact`): 1-, 100- and
//! 1,000-input PSBTs of both example vaults through UR and BBQr frames are
//! byte-identical after re-filling; a 100-input taproot PSBT needs at least
//! ten times fewer UR frames than the full one; and from the command line a
//! signer re-fills compact frames before review, answers in compact frames,
//! refuses frames its policy does not re-fill (exit 2, nothing written or
//! logged), and logs no signature whose frames could not be written.

mod qr_support;
mod signer_fixtures;

use custodia::psbt::compact::{is_compact, strip, Received};
use custodia::psbt::fields::compact_marker_key;
use custodia::transport::qr::{self, Assembler, Content, Format, FrameSpec, Payload};
use predicates::str::contains;
use qr_support::*;
use signer_fixtures::*;

fn spec(format: Format) -> FrameSpec {
    FrameSpec {
        format,
        ..FrameSpec::default()
    }
}

/// Splits `bytes` into parts and assembles them again, backwards.
fn through_frames(bytes: Vec<u8>, format: Format) -> (usize, Vec<u8>) {
    let payload = Payload {
        content: Content::Psbt,
        bytes,
    };
    let parts = qr::split(&payload, &spec(format)).unwrap();
    let mut a = Assembler::new();
    for p in parts.iter().rev() {
        a.push(p).unwrap();
    }
    let needed = a.progress().total;
    (needed, a.finish().unwrap().expect(Content::Psbt).unwrap())
}

#[test]
fn compact_psbts_round_trip_through_both_formats() {
    for name in ["regtest-exchange", "regtest-taproot"] {
        let policy = policy(name);
        for n in [1, 100, 1000] {
            let full = psbt_with_inputs(&policy, n);
            let compact = strip(&full, &policy).unwrap().serialize();
            for format in [Format::Ur, Format::Bbqr] {
                let (_, received) = through_frames(compact.clone(), format);
                assert_eq!(received, compact, "{name} {n} {format}");
                let doc = Received::from_bytes(&received)
                    .unwrap()
                    .into_document(|id| {
                        assert_eq!(id, policy.id());
                        Ok::<_, custodia::psbt::compact::CompactError>(policy.clone())
                    })
                    .unwrap();
                assert_eq!(
                    doc.psbt().serialize(),
                    full.serialize(),
                    "{name} {n} {format}: re-filled PSBT differs"
                );
            }
        }
    }
}

#[test]
fn a_hundred_input_taproot_psbt_needs_ten_times_fewer_ur_frames() {
    let policy = policy("regtest-taproot");
    let full = psbt_with_inputs(&policy, 100);
    let compact = strip(&full, &policy).unwrap().serialize();
    let (full_frames, _) = through_frames(full.serialize(), Format::Ur);
    let (compact_frames, _) = through_frames(compact, Format::Ur);
    println!("100-input taproot 2-of-3: {full_frames} UR frames full, {compact_frames} compact");
    assert!(
        full_frames >= 10 * compact_frames,
        "{full_frames} frames full, {compact_frames} compact"
    );
}

/// Writes `bytes` as frames into `dir/name` with `qr encode`.
fn encode(cli: &SignerCli, bytes: &[u8], name: &str) -> std::path::PathBuf {
    let file = cli.path(&format!("{name}.psbt"));
    std::fs::write(&file, bytes).unwrap();
    let frames = cli.path(name);
    signer_cmd(cli.dir.path())
        .args(["qr", "encode", "-o"])
        .arg(&frames)
        .arg(&file)
        .assert()
        .success();
    frames
}

/// Reads frames back into bytes with `qr decode`.
fn decode(cli: &SignerCli, frames: &std::path::Path, name: &str) -> Vec<u8> {
    let file = cli.path(name);
    signer_cmd(cli.dir.path())
        .args(["qr", "decode", "-o"])
        .arg(&file)
        .arg(frames)
        .assert()
        .success();
    std::fs::read(file).unwrap()
}

#[test]
fn a_signer_refills_compact_frames_and_answers_compact() {
    let policy = policy("regtest-taproot");
    let cli = SignerCli::new("hot-1", "regtest-taproot");
    let psbt = hot_payout(&policy, 1, BTC / 2);
    let compact = strip(&psbt, &policy).unwrap().serialize();
    let frames = encode(&cli, &compact, "payout");

    // The review is the full PSBT's: the destination and the change found.
    cli.cmd()
        .arg("review")
        .arg("--qr-in")
        .arg(&frames)
        .assert()
        .success()
        .stdout(contains("PASS"));
    let signed_frames = cli.path("signed-frames");
    cli.cmd()
        .args(["sign", "--yes", "--qr-compact", "--qr-in"])
        .arg(&frames)
        .arg("--qr-out")
        .arg(&signed_frames)
        .assert()
        .success();
    let back = decode(&cli, &signed_frames, "signed.psbt");
    let signed = bitcoin::Psbt::deserialize(&back).unwrap();
    assert!(is_compact(&signed), "the answer is compact");
    assert!(back.len() < psbt.serialize().len() / 2);
    assert_eq!(signed.unsigned_tx, psbt.unsigned_tx);
    assert_eq!(signed.inputs[0].tap_script_sigs.len(), 1);
    // Without --qr-compact the answer is the full PSBT.
    let full_frames = cli.path("full-frames");
    cli.cmd()
        .args(["sign", "--yes", "--qr-in"])
        .arg(&frames)
        .arg("--qr-out")
        .arg(&full_frames)
        .assert()
        .success();
    let full = bitcoin::Psbt::deserialize(&decode(&cli, &full_frames, "full.psbt")).unwrap();
    assert!(!is_compact(&full));
    assert_eq!(
        full.inputs[0].tap_key_origins,
        psbt.inputs[0].tap_key_origins
    );
}

#[test]
fn qr_compact_needs_qr_out() {
    let cli = SignerCli::new("hot-1", "regtest-taproot");
    let input = cli.write_psbt("p.psbt", &hot_payout(&policy("regtest-taproot"), 1, BTC));
    cli.sign(&input, cli.path("out.psbt"))
        .args(["--yes", "--qr-compact"])
        .assert()
        .code(2)
        .stderr(contains("--qr-compact"));
    assert!(!cli.path("out.psbt").exists());
}

#[test]
fn compact_frames_the_registered_policy_does_not_refill_are_refused() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    let compact = strip(&hot_payout(&policy, 1, BTC / 2), &policy).unwrap();
    // Input 0's hint (after the format byte, the policy id and the count)
    // names hot receive 9 instead of 2.
    let mut psbt = compact.psbt().clone();
    let marker = psbt.proprietary.get_mut(&compact_marker_key()).unwrap();
    assert_eq!(marker[34..36], [0x20, 2]);
    marker[35] = 9;
    let frames = encode(&cli, &psbt.serialize(), "tampered");
    let out = cli.path("signed-frames");
    let log = cli.path("home").join("log.jsonl");
    let log_before = std::fs::read(&log).unwrap();
    cli.cmd()
        .args(["sign", "--yes", "--qr-in"])
        .arg(&frames)
        .arg("--qr-out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("is not its script"));
    assert!(!out.exists());
    assert_eq!(
        std::fs::read(&log).unwrap(),
        log_before,
        "the log gained an entry"
    );
}

#[test]
fn a_signature_whose_frames_cannot_be_written_is_not_logged() {
    let policy = policy("regtest-taproot");
    let cli = SignerCli::new("hot-1", "regtest-taproot");
    let input = cli.write_psbt("p.psbt", &hot_payout(&policy, 1, BTC / 2));
    let log = cli.path("home").join("log.jsonl");
    let log_before = std::fs::read(&log).unwrap();
    // The frames' directory would go into a directory that does not exist.
    let out = cli.path("missing").join("frames");
    cli.cmd()
        .args(["sign", "--yes"])
        .arg(&input)
        .arg("--qr-out")
        .arg(&out)
        .assert()
        .code(3);
    assert!(!out.exists());
    assert_eq!(
        std::fs::read(&log).unwrap(),
        log_before,
        "the log gained an entry"
    );
    // The same into a file in a missing directory.
    let file = cli.path("missing").join("signed.psbt");
    cli.sign(&input, &file).arg("--yes").assert().code(3);
    assert_eq!(
        std::fs::read(&log).unwrap(),
        log_before,
        "the log gained an entry"
    );
}

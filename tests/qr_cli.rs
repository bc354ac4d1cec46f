//! PSBTs through QR frames from the command line: byte-identical round trips
//! of 1-, 100- and 1,000-input PSBTs in UR and BBQr, lost frames, frames of
//! another PSBT, incomplete sets and hostile parts (exit 2, nothing
//! written), and the signer's `--qr-in` / `--qr-out`.

mod qr_support;
mod signer_fixtures;

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

fn bytes_of(psbt: &bitcoin::Psbt) -> Vec<u8> {
    psbt.serialize()
}

#[test]
fn one_hundred_and_a_thousand_inputs_round_trip_in_both_formats() {
    let policy = policy("regtest-exchange");
    for n in [1, 100, 1000] {
        let payload = Payload {
            content: Content::Psbt,
            bytes: bytes_of(&psbt_with_inputs(&policy, n)),
        };
        for format in [Format::Ur, Format::Bbqr] {
            let parts = qr::split(&payload, &spec(format)).unwrap();
            let mut a = Assembler::new();
            // Backwards: order does not matter.
            for p in parts.iter().rev() {
                a.push(p).unwrap();
            }
            assert_eq!(a.finish().unwrap(), payload, "{n} inputs, {format}");
        }
    }
}

#[test]
fn frames_round_trip_through_png_files_from_the_command_line() {
    let policy = policy("regtest-exchange");
    let dir = tempfile::tempdir().unwrap();
    for n in [1, 100] {
        let psbt = dir.path().join(format!("in-{n}.psbt"));
        std::fs::write(&psbt, bytes_of(&psbt_with_inputs(&policy, n))).unwrap();
        for format in ["ur", "bbqr"] {
            let frames = dir.path().join(format!("frames-{n}-{format}"));
            let out = dir.path().join(format!("out-{n}-{format}.psbt"));
            signer_cmd(dir.path())
                .args(["qr", "encode", "--qr-format", format, "-o"])
                .arg(&frames)
                .arg(&psbt)
                .assert()
                .success();
            signer_cmd(dir.path())
                .args(["qr", "decode", "-o"])
                .arg(&out)
                .arg(&frames)
                .assert()
                .success()
                .stderr(contains("parts"));
            assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&psbt).unwrap());
        }
    }
}

fn encode(
    dir: &std::path::Path,
    psbt: &bitcoin::Psbt,
    name: &str,
    format: &str,
) -> std::path::PathBuf {
    let file = dir.join(format!("{name}.psbt"));
    std::fs::write(&file, bytes_of(psbt)).unwrap();
    let frames = dir.join(name);
    signer_cmd(dir)
        .args(["qr", "encode", "--qr-format", format, "-o"])
        .arg(&frames)
        .arg(&file)
        .assert()
        .success();
    frames
}

#[test]
fn lost_frames_foreign_frames_and_incomplete_sets() {
    let policy = policy("regtest-exchange");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ur = encode(d, &psbt_with_inputs(&policy, 100), "ur", "ur");
    let other = encode(d, &psbt_with_inputs(&policy, 3), "other", "ur");

    // 10 % of the UR frames lost: the fountain parts make up for them.
    let frames = pngs(&ur);
    for f in frames.iter().step_by(10) {
        std::fs::remove_file(f).unwrap();
        std::fs::remove_file(f.with_extension("svg")).unwrap();
    }
    let out = d.join("out.psbt");
    signer_cmd(d)
        .args(["qr", "decode", "-o"])
        .arg(&out)
        .arg(&ur)
        .assert()
        .success();
    assert_eq!(
        out.metadata().unwrap().len(),
        bytes_of(&psbt_with_inputs(&policy, 100)).len() as u64
    );

    // A frame of another PSBT among them: exit 2, nothing written.
    let refused = d.join("refused.psbt");
    signer_cmd(d)
        .args(["qr", "decode", "-o"])
        .arg(&refused)
        .arg(&ur)
        .arg(&pngs(&other)[1])
        .assert()
        .code(2)
        .stderr(contains("another animation"));
    assert!(!refused.exists());

    // An incomplete BBQr set: exit 2, the count named, nothing written.
    let bbqr = encode(d, &psbt_with_inputs(&policy, 100), "bbqr", "bbqr");
    let mut some = pngs(&bbqr);
    let total = some.len();
    some.remove(2);
    signer_cmd(d)
        .args(["qr", "decode", "-o"])
        .arg(&refused)
        .args(&some)
        .assert()
        .code(2)
        .stderr(contains(format!("parts {}/{total}", total - 1)));
    assert!(!refused.exists());

    // A picture that holds no QR code: exit 2.
    let blank = d.join("blank.png");
    let white = image::GrayImage::from_pixel(200, 200, image::Luma([255]));
    white.save(&blank).unwrap();
    signer_cmd(d)
        .args(["qr", "decode", "-o"])
        .arg(&refused)
        .arg(&blank)
        .assert()
        .code(2)
        .stderr(contains("no QR code"));
    assert!(!refused.exists());

    // Frames into a directory that holds files: exit 2, the files untouched.
    signer_cmd(d)
        .args(["qr", "encode", "-o"])
        .arg(&bbqr)
        .arg(d.join("ur.psbt"))
        .assert()
        .code(2)
        .stderr(contains("not empty"));
    assert_eq!(pngs(&bbqr).len(), total);
}

#[test]
fn a_hostile_ur_part_is_refused_without_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("hostile.png");
    qrencode(
        "UR:CRYPTO-PSBT/1-99999999/LPADCSNSADAXCYWENBPLJKHDCAHKADAEMEJTSWHHYLKEPMYKHHTSYTSNOYOYAXAEDSUTTYDMMHHPKTPMSRJTDKGSLPGH",
        &png,
    );
    let out = dir.path().join("out.psbt");
    signer_cmd(dir.path())
        .args(["qr", "decode", "-o"])
        .arg(&out)
        .arg(&png)
        .assert()
        .code(2)
        .stderr(contains("99999999 fragments"));
    assert!(!out.exists());
}

#[test]
fn the_signer_reviews_signs_and_registers_through_frames() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    let psbt = hot_payout(&policy, 1, BTC / 2);
    let frames = encode(cli.dir.path(), &psbt, "payout", "ur");

    cli.cmd()
        .arg("review")
        .arg("--qr-in")
        .arg(&frames)
        .assert()
        .success();
    let signed = cli.path("signed-frames");
    cli.cmd()
        .args(["sign", "--yes", "--qr-format", "bbqr", "--qr-in"])
        .arg(&frames)
        .arg("--qr-out")
        .arg(&signed)
        .assert()
        .success();
    let back = cli.path("signed.psbt");
    signer_cmd(cli.dir.path())
        .args(["qr", "decode", "-o"])
        .arg(&back)
        .arg(&signed)
        .assert()
        .success();
    let signed = bitcoin::Psbt::deserialize(&std::fs::read(&back).unwrap()).unwrap();
    assert_eq!(signed.unsigned_tx, psbt.unsigned_tx);
    assert!(!signed.inputs[0].partial_sigs.is_empty());

    // Signing into a directory that holds files is refused before anything is signed.
    cli.cmd()
        .args(["sign", "--yes", "--qr-in"])
        .arg(&frames)
        .arg("--qr-out")
        .arg(&frames)
        .assert()
        .code(2);

    // Frames of a policy (text), not of a PSBT, are refused by review.
    let policy_frames = cli.path("policy-frames");
    signer_cmd(cli.dir.path())
        .args(["qr", "encode", "-o"])
        .arg(&policy_frames)
        .arg(crate_path("policies/regtest-exchange.toml"))
        .assert()
        .success();
    cli.cmd()
        .arg("review")
        .arg("--qr-in")
        .arg(&policy_frames)
        .assert()
        .code(2)
        .stderr(contains("needs a PSBT"));
    // And registered from them (already registered: nothing changes).
    cli.cmd()
        .args(["register", "--yes", "--qr-in"])
        .arg(&policy_frames)
        .assert()
        .success();
}

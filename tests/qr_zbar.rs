//! Independent implementations: every PNG frame custodia writes is read by
//! ZBar's `zbarimg` to exactly its part string, and the published part
//! strings rendered by `qrencode` decode in custodia to the published
//! payload. Frames blurred or rescaled still read.

mod qr_support;
mod signer_fixtures;

use custodia::transport::qr::{self, scan, Content, Format, FrameSpec, Payload};
use qr_support::*;
use signer_fixtures::*;

#[test]
fn zbarimg_reads_every_frame_custodia_writes() {
    let policy = policy("regtest-exchange");
    let dir = tempfile::tempdir().unwrap();
    let psbt = Payload {
        content: Content::Psbt,
        bytes: psbt_with_inputs(&policy, 12).serialize(),
    };
    let text = Payload {
        content: Content::Text,
        bytes: std::fs::read(crate_path("policies/regtest-exchange.toml")).unwrap(),
    };
    let specs = [
        FrameSpec::default(),
        FrameSpec {
            format: Format::Bbqr,
            ..FrameSpec::default()
        },
        FrameSpec {
            version: 20,
            ec: qr::EcLevel::L,
            scale: 4,
            ..FrameSpec::default()
        },
    ];
    for (i, (payload, spec)) in [&psbt, &text]
        .into_iter()
        .flat_map(|p| specs.iter().map(move |s| (p, s)))
        .enumerate()
    {
        let frames = dir.path().join(format!("set-{i}"));
        qr::write_frames(payload, spec, &frames).unwrap();
        let parts = qr::split(payload, spec).unwrap();
        let files = pngs(&frames);
        assert_eq!(files.len(), parts.len());
        for (file, part) in files.iter().zip(&parts) {
            assert_eq!(&zbarimg(file), part, "{}", file.display());
        }
    }
}

fn decode_rendered(parts: &[String]) -> Payload {
    let dir = tempfile::tempdir().unwrap();
    for (i, part) in parts.iter().enumerate() {
        qrencode(part, &dir.path().join(format!("{i:03}.png")));
    }
    qr::read_frames(&[dir.path().to_owned()], &mut |_, _| {}).unwrap()
}

#[test]
fn frames_rendered_by_qrencode_decode_to_the_published_payloads() {
    // BCR-2020-006 crypto-psbt, lower case as published (byte mode).
    let single = vector_lines("bcr-2020-006-crypto-psbt.txt");
    assert_eq!(
        decode_rendered(&single).bytes,
        vector_hex("bcr-2020-006-crypto-psbt.hex")
    );
    // Jade's two-part crypto-psbt, upper case (alphanumeric mode).
    let jade = decode_rendered(&vector_lines("jade-crypto-psbt-2of2.txt"));
    let cbor = vector_hex("jade-crypto-psbt-2of2.cbor.hex");
    assert_eq!(custodia::transport::qr::ur::cbor_wrap(&jade.bytes), cbor);
    // The BC-UR multi-part vector.
    let urkit = decode_rendered(&vector_lines("urkit-bytes-256-fragments30.txt"));
    assert_eq!(urkit.bytes.len(), 256);
    // BBQr parts of Coinkite's reference implementation.
    for name in ["1in2out", "1in100out"] {
        let parts = vector_lines(&format!("bbqr-{name}-parts.txt"));
        let psbt = std::fs::read(vector(&format!("bbqr-{name}.psbt"))).unwrap();
        assert_eq!(
            decode_rendered(&parts),
            Payload {
                content: Content::Psbt,
                bytes: psbt
            }
        );
    }
}

#[test]
fn blurred_and_rescaled_frames_read() {
    let payload = Payload {
        content: Content::Psbt,
        bytes: std::fs::read(vector("bbqr-1in100out.psbt")).unwrap(),
    };
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    let spec = FrameSpec::default();
    qr::write_frames(&payload, &spec, &frames).unwrap();
    let parts = qr::split(&payload, &spec).unwrap();
    for (file, part) in pngs(&frames).iter().zip(&parts).take(6) {
        let image = image::open(file).unwrap().to_luma8();
        let (w, h) = image.dimensions();
        let variants = [
            image::imageops::blur(&image, 1.5),
            image::imageops::resize(
                &image,
                w * 3 / 5,
                h * 3 / 5,
                image::imageops::FilterType::Triangle,
            ),
            image::imageops::resize(
                &image,
                w * 7 / 4,
                h * 7 / 4,
                image::imageops::FilterType::CatmullRom,
            ),
        ];
        for v in variants {
            let read = scan::read_luma(v.as_raw(), v.width(), v.height());
            assert_eq!(read.as_deref(), Some(part.as_str()), "{}", file.display());
        }
    }
}

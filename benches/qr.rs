//! Frames and encode/decode time of 1-, 100- and 1,000-input vault PSBTs
//! (hot 2-of-3 spends of the P2WSH vault, with full previous transactions,
//! and of the taproot vault) in UR and BBQr at the default frame size, full
//! and compact (`--qr-compact`), printed as a table: `cargo bench --bench qr`.
//!
//! "split" and "join" are the part strings alone, and for compact rows
//! include stripping before and re-filling after; "frame" is one PNG frame
//! rendered, encoded, decoded and scanned back (rxing), measured on up to
//! 50 frames and given per frame.

#[path = "../tests/qr_support/mod.rs"]
mod qr_support;
#[path = "../tests/signer_fixtures/mod.rs"]
mod signer_fixtures;

use std::time::Instant;

use custodia::policy::VaultPolicy;
use custodia::psbt::compact::{refill_bytes, strip};
use custodia::transport::qr::{self, frames, scan, Assembler, Content, Format, FrameSpec, Payload};

fn main() {
    println!("| vault | inputs | format | PSBT bytes | frames (needed) | split ms | join ms | frame ms |");
    println!("|---|---:|---|---:|---:|---:|---:|---:|");
    for name in ["regtest-exchange", "regtest-taproot"] {
        let policy = signer_fixtures::policy(name);
        for n in [1u32, 100, 1000] {
            let psbt = qr_support::psbt_with_inputs(&policy, n);
            for compact in [false, true] {
                for format in [Format::Ur, Format::Bbqr] {
                    row(name, &policy, &psbt, n, format, compact);
                }
            }
        }
    }
}

fn row(
    name: &str,
    policy: &VaultPolicy,
    psbt: &bitcoin::Psbt,
    n: u32,
    format: Format,
    compact: bool,
) {
    let spec = FrameSpec {
        format,
        ..FrameSpec::default()
    };
    let full = psbt.serialize();
    let t = Instant::now();
    let bytes = match compact {
        true => strip(psbt, policy).expect("strip").serialize(),
        false => full.clone(),
    };
    let payload = Payload {
        content: Content::Psbt,
        bytes,
    };
    let parts = qr::split(&payload, &spec).expect("fits");
    let split_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let mut a = Assembler::new();
    for p in &parts {
        a.push(p).expect("part");
    }
    let needed = a.progress().total;
    let received = a
        .finish()
        .expect("complete")
        .expect(Content::Psbt)
        .expect("psbt");
    let back = match compact {
        true => refill_bytes(&received, policy).expect("refill").serialize(),
        false => received,
    };
    assert_eq!(back, full);
    let join_ms = t.elapsed().as_secs_f64() * 1e3;
    let version = frames::version_for(&parts, &spec).expect("version");
    let sample = &parts[..parts.len().min(50)];
    let t = Instant::now();
    for p in sample {
        let png = frames::png(
            &frames::render(p, version, spec.ec).expect("render"),
            spec.scale,
        );
        let image = image::load_from_memory(&png).expect("png").to_luma8();
        let read = scan::read_luma(image.as_raw(), image.width(), image.height());
        assert_eq!(read.as_deref(), Some(p.as_str()));
    }
    let frame_ms = t.elapsed().as_secs_f64() * 1e3 / sample.len() as f64;
    let format = match compact {
        true => format!("{format} compact"),
        false => format.to_string(),
    };
    println!(
        "| {name} | {n} | {format} | {} | {} ({needed}) | {split_ms:.1} | {join_ms:.1} | {frame_ms:.1} |",
        payload.bytes.len(),
        parts.len()
    );
}

//! Frames and encode/decode time of 1-, 100- and 1,000-input vault PSBTs
//! (2-of-3 P2WSH, full previous transactions) in UR and BBQr at the default
//! frame size, printed as a table: `cargo bench --bench qr`.
//!
//! "split" and "join" are the part strings alone; "frame" is one PNG frame
//! rendered, encoded, decoded and scanned back (rxing), measured on up to
//! 50 frames and given per frame.

#[path = "../tests/qr_support/mod.rs"]
mod qr_support;
#[path = "../tests/signer_fixtures/mod.rs"]
mod signer_fixtures;

use std::time::Instant;

use custodia::transport::qr::{self, frames, scan, Assembler, Content, Format, FrameSpec, Payload};

fn main() {
    let policy = signer_fixtures::policy("regtest-exchange");
    println!("| inputs | PSBT bytes | format | frames (needed) | split ms | join ms | frame ms |");
    println!("|---:|---:|---|---:|---:|---:|---:|");
    for n in [1u32, 100, 1000] {
        let payload = Payload {
            content: Content::Psbt,
            bytes: qr_support::psbt_with_inputs(&policy, n).serialize(),
        };
        for format in [Format::Ur, Format::Bbqr] {
            let spec = FrameSpec {
                format,
                ..FrameSpec::default()
            };
            let t = Instant::now();
            let parts = qr::split(&payload, &spec).expect("fits");
            let split_ms = t.elapsed().as_secs_f64() * 1e3;
            let t = Instant::now();
            let mut a = Assembler::new();
            for p in &parts {
                a.push(p).expect("part");
            }
            let needed = a.progress().total;
            assert_eq!(a.finish().expect("complete"), payload);
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
            println!(
                "| {n} | {} | {format} | {} ({needed}) | {split_ms:.1} | {join_ms:.1} | {frame_ms:.1} |",
                payload.bytes.len(),
                parts.len()
            );
        }
    }
}

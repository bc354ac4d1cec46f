use super::*;
use crate::transport::qr::Assembler;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/qr/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn lines(name: &str) -> Vec<String> {
    String::from_utf8(data(name))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn assemble(parts: &[String]) -> Result<Payload, QrError> {
    let mut a = Assembler::new();
    for p in parts {
        a.push(p)?;
    }
    a.finish()
}

#[test]
fn the_real_scan_joins_despite_duplicates_and_order() {
    let parts = lines("bbqr-real-scan.txt");
    assert!(parts.len() > 8, "the scan repeats frames");
    let payload = assemble(&parts).unwrap();
    assert_eq!(payload.content, Content::Text);
    let text = String::from_utf8(payload.bytes).unwrap();
    assert!(text.contains("Zlib compressed") && text.contains("PSBT"));
}

#[test]
fn the_reference_parts_join_and_custodia_splits_the_same() {
    for (name, version) in [("1in2out", 11u8), ("1in100out", 15)] {
        let psbt = data(&format!("bbqr-{name}.psbt"));
        let parts = lines(&format!("bbqr-{name}-parts.txt"));
        let joined = assemble(&parts).unwrap();
        assert_eq!(
            joined,
            Payload {
                content: Content::Psbt,
                bytes: psbt.clone()
            }
        );
        let mine = split(&joined, capacity(version, EcLevel::L).unwrap(), version).unwrap();
        // The same split (headers, count); the last characters may differ,
        // since two zlib implementations need not emit identical streams.
        let headers = |p: &[String]| p.iter().map(|p| p[..8].to_owned()).collect::<Vec<_>>();
        assert_eq!(headers(&mine), headers(&parts), "{name}");
        assert_eq!(assemble(&mine).unwrap(), joined);
    }
}

#[test]
fn a_part_of_another_animation_is_refused() {
    let a = lines("bbqr-1in2out-parts.txt");
    let b = lines("bbqr-1in100out-parts.txt");
    let mut assembler = Assembler::new();
    assembler.push(&a[0]).unwrap();
    assert!(matches!(
        assembler.push(&b[1]),
        Err(QrError::OtherAnimation(Mismatch::BbqrHeader { .. }))
    ));
    // Same header, same index, other content.
    let mut forged = a[1].clone();
    forged.replace_range(20..22, "AA");
    assembler.push(&a[1]).unwrap();
    assert!(matches!(
        assembler.push(&forged),
        Err(QrError::OtherAnimation(Mismatch::BbqrDuplicate(1)))
    ));
    // A UR frame among BBQr ones.
    assert!(matches!(
        assembler.push("UR:BYTES/AEAE"),
        Err(QrError::OtherAnimation(Mismatch::Formats { .. }))
    ));
}

#[test]
fn missing_parts_are_counted() {
    let parts = lines("bbqr-1in100out-parts.txt");
    match assemble(&parts[1..]) {
        Err(QrError::Incomplete {
            received: 5,
            total: 6,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_headers_are_refused() {
    for part in [
        "B$",
        "B$ZP0100",
        "B$ZP01010A",
        "B$XP0100AA",
        "B$Zp0100AA",
        "B$ZP0a00AA",
        "B$ZP+100AA",
    ] {
        assert!(BbqrHeader::parse(part).is_err(), "{part}");
    }
    assert_eq!(
        BbqrHeader::parse("B$ZPZZ0AAA").unwrap(),
        BbqrHeader {
            encoding: b'Z',
            file_type: b'P',
            total: 1295,
            index: 10
        }
    );
}

#[test]
fn too_big_for_the_cap_is_refused() {
    let noise: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let payload = Payload {
        content: Content::Psbt,
        bytes: noise,
    };
    assert!(matches!(
        split(&payload, 100, 5),
        Err(QrError::TooBig { .. })
    ));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_parses_or_errs(s in "B\\$[A-Z0-9$+]{0,12}") {
            let _ = BbqrHeader::parse(&s);
            let _ = Assembler::new().push(&s);
        }

        #[test]
        fn headers_round_trip(total in 1usize..=1295, index in 0usize..1295) {
            let digits = |n: usize| {
                let d = |x: usize| char::from_digit(x as u32, 36).unwrap().to_ascii_uppercase();
                format!("{}{}", d(n / 36), d(n % 36))
            };
            let part = format!("B$2P{}{}AA", digits(total), digits(index));
            match BbqrHeader::parse(&part) {
                Ok(h) => prop_assert_eq!((h.total, h.index), (total, index)),
                Err(_) => prop_assert!(index >= total),
            }
        }

        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 1..4000), version in 5u8..=20) {
            let payload = Payload { content: Content::Psbt, bytes };
            let parts = split(&payload, capacity(version, EcLevel::M).unwrap(), version).unwrap();
            for p in &parts {
                prop_assert!(p.len() <= capacity(version, EcLevel::M).unwrap());
            }
            prop_assert_eq!(assemble(&parts).unwrap(), payload);
        }
    }
}

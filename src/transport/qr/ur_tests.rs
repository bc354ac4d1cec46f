use super::*;
use crate::transport::qr::{Assembler, Content, Payload};

fn vector(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/data/qr/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn hex(name: &str) -> Vec<u8> {
    let text = vector(name);
    let text = text.trim();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn lines(name: &str) -> Vec<String> {
    vector(name)
        .lines()
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
fn the_bcr_crypto_psbt_vector_decodes_and_encodes() {
    let part = vector("bcr-2020-006-crypto-psbt.txt").trim().to_owned();
    let psbt = hex("bcr-2020-006-crypto-psbt.hex");
    let payload = assemble(std::slice::from_ref(&part)).unwrap();
    assert_eq!(
        payload,
        Payload {
            content: Content::Psbt,
            bytes: psbt.clone()
        }
    );
    // Encoded by custodia: the same part, upper-cased for alphanumeric mode.
    let parts = split(&payload, 1000, 20, 50).unwrap();
    assert_eq!(parts, vec![part.to_uppercase()]);
}

#[test]
fn the_jade_multipart_vector_decodes_and_encodes() {
    let parts = lines("jade-crypto-psbt-2of2.txt");
    let cbor = hex("jade-crypto-psbt-2of2.cbor.hex");
    let psbt = cbor_unwrap(&cbor).unwrap();
    assert!(psbt.starts_with(b"psbt\xff"));
    assert_eq!(assemble(&parts).unwrap().bytes, psbt);
    // Either order, with a duplicate.
    let shuffled = [parts[1].clone(), parts[1].clone(), parts[0].clone()];
    assert_eq!(assemble(&shuffled).unwrap().bytes, psbt);
    // The same fragmenting (142 bytes) gives the same pure parts.
    let mut encoder = ur::Encoder::new(&cbor, 142, "crypto-psbt").unwrap();
    assert_eq!(encoder.next_part().unwrap().to_uppercase(), parts[0]);
    assert_eq!(encoder.next_part().unwrap().to_uppercase(), parts[1]);
}

#[test]
fn the_urkit_multipart_vector_decodes_from_pure_or_fountain_parts() {
    let parts = lines("urkit-bytes-256-fragments30.txt");
    let all = assemble(&parts).unwrap();
    assert_eq!(all.content, Content::Text);
    assert_eq!(all.bytes.len(), 256);
    assert_eq!(assemble(&parts[..9]).unwrap(), all);
    // Without pure fragment 1, the fountain parts stand in for it.
    assert_eq!(assemble(&parts[1..]).unwrap(), all);
    // The same message re-encoded by custodia's encoder gives the same parts.
    let mut encoder = ur::Encoder::new(&cbor_wrap(&all.bytes), 30, "bytes").unwrap();
    for part in &parts {
        assert_eq!(&encoder.next_part().unwrap(), part);
    }
}

#[test]
fn an_incomplete_set_says_how_far_it_got() {
    let parts = lines("urkit-bytes-256-fragments30.txt");
    match assemble(&parts[..5]) {
        Err(QrError::Incomplete {
            received: 5,
            total: 9,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_absurd_sequence_count_is_refused_before_decoding() {
    let hostile = "ur:crypto-psbt/1-4000000000/lpadascfadaxcywenbpljkhdcahkadaemejtswhhylkepmykhhtsytsnoyoyaxaedsuttydmmhhpktpmsrjtdkgslpgh";
    assert!(matches!(
        UrHeader::parse(hostile),
        Err(QrError::TooManyFragments {
            claimed: 4_000_000_000,
            ..
        })
    ));
    assert!(matches!(
        Assembler::new().push(hostile),
        Err(QrError::TooManyFragments { .. })
    ));
    // A header that agrees with the limit but a CBOR body that claims more.
    let lying = "ur:bytes/1-9/lpadcsnsadaxcywenbpljkhdcahkadaemejtswhhylkepmykhhtsytsnoyoyaxaedsuttydmmhhpktpmsrjtdkgslpgh";
    assert!(Assembler::new().push(lying).is_err());
}

#[test]
fn a_part_of_another_message_is_refused() {
    let jade = lines("jade-crypto-psbt-2of2.txt");
    let other = Payload {
        content: Content::Psbt,
        bytes: vec![7; 600],
    };
    let foreign = split(&other, 400, 12, 0).unwrap();
    let mut a = Assembler::new();
    a.push(&jade[0]).unwrap();
    assert!(matches!(
        a.push(&foreign[1]),
        Err(QrError::OtherAnimation(Mismatch::UrMessage { .. }))
    ));
    let urkit = lines("urkit-bytes-256-fragments30.txt");
    assert!(matches!(
        a.push(&urkit[0]),
        Err(QrError::OtherAnimation(Mismatch::UrType { .. }))
    ));
}

#[test]
fn other_types_and_damaged_parts_are_refused() {
    let mut urkit = lines("urkit-bytes-256-fragments30.txt")[0].clone();
    for bad_part in [
        "ur:crypto-account/1-1/lpadaxcsencyhkrpnddshmgtwtiaaeaeae".to_owned(),
        "ur:bytes/1-x/aeae".to_owned(),
        "ur:bytes/+1-9/aeae".to_owned(),
        "ur:bytes/0-9/aeae".to_owned(),
        "ur:bytes/1-9/2-9/aeae".to_owned(),
        {
            urkit.replace_range(40..42, "zz");
            urkit
        },
    ] {
        assert!(Assembler::new().push(&bad_part).is_err(), "{bad_part}");
    }
}

#[test]
fn ten_percent_of_frames_lost_still_decode() {
    for size in [2_000u32, 20_000, 100_000] {
        let bytes: Vec<u8> = (0..size).map(|i| (i * 7919 % 251) as u8).collect();
        let payload = Payload {
            content: Content::Psbt,
            bytes,
        };
        let parts = split(&payload, 419, 12, 50).unwrap();
        for phase in 0..10 {
            let kept: Vec<String> = parts
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 10 != phase)
                .map(|(_, p)| p.clone())
                .collect();
            assert_eq!(
                assemble(&kept).unwrap(),
                payload,
                "dropping every 10th from {phase}"
            );
        }
    }
}

#[test]
fn pure_parts_are_those_of_the_reference_encoder() {
    let payload = Payload {
        content: Content::Psbt,
        bytes: vec![9; 5_000],
    };
    let parts = split(&payload, 419, 12, 50).unwrap();
    let fragment = (419 - HEADER_CHARS) / 2 - PART_OVERHEAD_BYTES;
    let mut reference =
        ur::Encoder::new(&cbor_wrap(&payload.bytes), fragment, "crypto-psbt").unwrap();
    for part in &parts[..reference.fragment_count()] {
        assert_eq!(part, &reference.next_part().unwrap().to_uppercase());
    }
}

#[test]
fn parts_fit_their_frames_and_are_upper_case() {
    for capacity in [200, 419, 1249, 4296] {
        let payload = Payload {
            content: Content::Psbt,
            bytes: vec![0xab; 9_000],
        };
        let parts = split(&payload, capacity, 40, 10).unwrap();
        for p in &parts {
            assert!(p.len() <= capacity, "{} > {capacity}", p.len());
            assert_eq!(p, &p.to_uppercase());
        }
        assert_eq!(assemble(&parts).unwrap(), payload);
    }
}

#[test]
fn a_message_too_big_for_the_cap_is_refused() {
    let payload = Payload {
        content: Content::Psbt,
        bytes: vec![1; 2_000_000],
    };
    assert!(matches!(
        split(&payload, 100, 5, 0),
        Err(QrError::TooBig { .. })
    ));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_header_text_parses_or_errs(s in "[uUrR:/a-z0-9+-]{0,40}") {
            let _ = UrHeader::parse(&s);
            let _ = Assembler::new().push(&s);
        }

        #[test]
        fn sequence_headers_round_trip(seq in 1u64..100_000, count in 1u64..20_000) {
            let part = format!("ur:crypto-psbt/{seq}-{count}/aeae");
            match UrHeader::parse(&part) {
                Ok(h) => prop_assert_eq!(h.sequence, Some((seq, count))),
                Err(QrError::TooManyFragments { .. }) => prop_assert!(count > MAX_FRAGMENTS),
                Err(e) => prop_assert!(false, "{e}"),
            }
        }

        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 1..3000), cap in 120usize..800) {
            let payload = Payload { content: Content::Psbt, bytes };
            let parts = split(&payload, cap, 40, 0).unwrap();
            prop_assert_eq!(assemble(&parts).unwrap(), payload);
        }
    }
}

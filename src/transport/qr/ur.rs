//! UR (BCR-2020-005) for custodia: a PSBT as `crypto-psbt`, text as
//! `bytes`, each a CBOR byte string (the `ur` crate does not wrap), parts
//! upper-cased so a QR code holds them in alphanumeric mode.
//!
//! The `ur` crate's decoder sizes its work by the fragment count a part
//! claims, so a hostile part claiming millions would make it allocate
//! accordingly: [`UrAssembly::push`] reads the `/seq-n/` header itself and
//! refuses an absurd `n` before the crate sees the part.

use minicbor::{Decoder, Encoder};

use super::fountain::Solver;

use super::{Content, Mismatch, PartDefect, Payload, QrError};
use crate::transport::qr::Format;

/// The most fragments one transfer may have. A 1,000-input PSBT with its
/// previous transactions (about 800 KB) needs about 5,000 at the default
/// frame size; anything far beyond is not a PSBT worth animating.
pub const MAX_FRAGMENTS: u64 = 10_000;

/// The most bytes one message may have (as BBQr's zlib limit).
pub const MAX_MESSAGE: u64 = 16 * 1024 * 1024;

/// Upper bound on the characters of `UR:CRYPTO-PSBT/` plus `/seq-n/`.
const HEADER_CHARS: usize = 15 + 2 * 6 + 2;
/// Upper bound on CBOR framing of a part (array, four u32, byte string
/// header) plus the 4-byte bytewords checksum.
const PART_OVERHEAD_BYTES: usize = 1 + 5 + 5 + 5 + 5 + 5 + 4;

fn ur_type(content: Content) -> &'static str {
    match content {
        Content::Psbt => "crypto-psbt",
        Content::Text => "bytes",
    }
}

fn content_of(ur_type: &str) -> Option<Content> {
    match ur_type {
        "crypto-psbt" | "psbt" => Some(Content::Psbt),
        "bytes" => Some(Content::Text),
        _ => None,
    }
}

fn bad(reason: PartDefect) -> QrError {
    QrError::BadPart {
        format: Format::Ur,
        reason,
    }
}

/// `bytes` as a CBOR byte string.
pub fn cbor_wrap(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 9);
    Encoder::new(&mut out)
        .bytes(bytes)
        .expect("writing to a Vec cannot fail");
    out
}

/// The content of a CBOR byte string that fills `cbor` exactly.
pub fn cbor_unwrap(cbor: &[u8]) -> Result<Vec<u8>, QrError> {
    let mut d = Decoder::new(cbor);
    let bytes = d.bytes().map_err(|_| bad(PartDefect::Cbor))?;
    match d.position() == cbor.len() {
        true => Ok(bytes.to_vec()),
        false => Err(bad(PartDefect::Cbor)),
    }
}

/// The part strings of `payload` for frames holding `capacity` alphanumeric
/// characters: one single-part UR if it fits, else the pure fragments and
/// `extra_percent` more fountain parts, which stand in for lost frames.
pub fn split(
    payload: &Payload,
    capacity: usize,
    version: u8,
    extra_percent: u16,
) -> Result<Vec<String>, QrError> {
    let cbor = cbor_wrap(&payload.bytes);
    let ur_type = ur_type(payload.content);
    if 4 + ur_type.len() + 2 * (cbor.len() + 4) <= capacity {
        return Ok(vec![
            ur::ur::encode(&cbor, &ur::Type::Custom(ur_type)).to_uppercase()
        ]);
    }
    let fragment = capacity.saturating_sub(HEADER_CHARS) / 2;
    let fragment = fragment.saturating_sub(PART_OVERHEAD_BYTES);
    let too_big = QrError::TooBig {
        format: Format::Ur,
        bytes: payload.bytes.len(),
        cap: MAX_FRAGMENTS as usize,
        version,
    };
    if fragment < 8 || cbor.len() as u64 > MAX_MESSAGE {
        return Err(too_big);
    }
    let mut fountain =
        ur::fountain::Encoder::new(&cbor, fragment).map_err(|_| bad(PartDefect::Payload))?;
    let pure = fountain.fragment_count();
    if pure as u64 > MAX_FRAGMENTS {
        return Err(too_big);
    }
    // Fountain parts repeat: for a few fragments, many of the first mixed
    // parts re-send one fragment or a set already sent. A repeat adds
    // nothing to a fixed set of frames, so it is skipped (decoders take any
    // sequence numbers); the search is bounded.
    // A few fragments need proportionally more: with 13, 50 % extra still
    // failed one drop pattern in ten; so at least as many extra as pure, up to 16.
    let extra = (pure * usize::from(extra_percent)).div_ceil(100);
    let extra = match extra_percent {
        0 => 0,
        _ => extra.max(pure.min(16)),
    };
    let total = pure + extra;
    let mut sent = std::collections::HashSet::new();
    let mut parts = Vec::with_capacity(total);
    for _ in 0..total.saturating_mul(20) {
        if parts.len() == total {
            break;
        }
        let part = fountain.next_part();
        if !sent.insert(part.indexes()) {
            continue;
        }
        let cbor = minicbor::to_vec(&part).map_err(|_| bad(PartDefect::Payload))?;
        let body = ur::bytewords::encode(&cbor, ur::bytewords::Style::Minimal);
        let seq = fountain.current_sequence();
        parts.push(format!("ur:{ur_type}/{seq}-{pure}/{body}").to_uppercase());
    }
    Ok(parts)
}

/// What a part's text says before any decoding: its type and, for a
/// multi-part UR, `seq` of `count`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrHeader {
    /// The type, lower-cased.
    pub ur_type: String,
    /// `(seq, count)` of a multi-part UR.
    pub sequence: Option<(u64, u64)>,
}

impl UrHeader {
    /// Parses `ur:TYPE/[SEQ-COUNT/]BODY` (any case) and refuses a count above
    /// [`MAX_FRAGMENTS`]. Allocates nothing but the short type.
    pub fn parse(part: &str) -> Result<Self, QrError> {
        let rest = part
            .get(..3)
            .filter(|s| s.eq_ignore_ascii_case("ur:"))
            .map(|_| &part[3..])
            .ok_or_else(|| bad(PartDefect::UrType))?;
        let mut fields = rest.split('/');
        let ur_type = fields.next().unwrap_or_default().to_ascii_lowercase();
        if content_of(&ur_type).is_none() {
            return Err(bad(PartDefect::UrType));
        }
        let (seq, body) = (fields.next(), fields.next());
        if fields.next().is_some() {
            return Err(bad(PartDefect::Sequence));
        }
        let sequence = match (seq, body) {
            (Some(_), None) => None,
            (Some(seq), Some(_)) => Some(parse_sequence(seq)?),
            (None, _) => return Err(bad(PartDefect::Payload)),
        };
        Ok(UrHeader { ur_type, sequence })
    }
}

fn parse_sequence(text: &str) -> Result<(u64, u64), QrError> {
    let (seq, count) = text
        .split_once('-')
        .ok_or_else(|| bad(PartDefect::Sequence))?;
    let number = |s: &str| -> Result<u64, QrError> {
        // Digits only, and few of them: `u64::from_str` would take `+5`.
        match !s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit()) {
            true => s.parse().map_err(|_| bad(PartDefect::Sequence)),
            false => Err(bad(PartDefect::Sequence)),
        }
    };
    let (seq, count) = (number(seq)?, number(count)?);
    if count > MAX_FRAGMENTS {
        return Err(QrError::TooManyFragments {
            claimed: count,
            cap: MAX_FRAGMENTS,
        });
    }
    if seq == 0 || count == 0 || seq > u64::from(u32::MAX) {
        return Err(bad(PartDefect::Sequence));
    }
    Ok((seq, count))
}

/// The fountain metadata inside a multi-part UR's CBOR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Meta {
    count: u64,
    length: u64,
    checksum: u32,
    fragment: usize,
}

fn meta_of(part: &str, header: &UrHeader) -> Result<(Meta, Vec<u8>), QrError> {
    let body = part
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let cbor = ur::bytewords::decode(&body, ur::bytewords::Style::Minimal)
        .map_err(|_| bad(PartDefect::Payload))?;
    let mut d = Decoder::new(&cbor);
    let read = |d: &mut Decoder| -> Result<Meta, minicbor::decode::Error> {
        if d.array()? != Some(5) {
            return Err(minicbor::decode::Error::message("not a fountain part"));
        }
        let (seq, count, length, checksum) = (d.u32()?, d.u32()?, d.u32()?, d.u32()?);
        let fragment = d.bytes()?.len();
        let _ = seq;
        Ok(Meta {
            count: count.into(),
            length: length.into(),
            checksum,
            fragment,
        })
    };
    let meta = read(&mut d).map_err(|_| bad(PartDefect::Payload))?;
    let (_, count) = header.sequence.expect("multi-part header");
    let fits = meta.fragment > 0
        && meta.length > 0
        && meta.length <= MAX_MESSAGE
        && meta.length <= meta.count * meta.fragment as u64
        && meta.length > meta.count.saturating_sub(1) * meta.fragment as u64;
    match meta.count == count && fits && d.position() == cbor.len() {
        true => Ok((meta, cbor)),
        false => Err(bad(PartDefect::Sequence)),
    }
}

/// One UR animation being assembled.
pub struct UrAssembly {
    ur_type: String,
    state: State,
}

enum State {
    Single(Vec<u8>),
    Multi {
        meta: Meta,
        decoder: Box<ur::Decoder>,
        solver: Solver,
    },
}

impl UrAssembly {
    /// Starts an assembly with its first part.
    pub fn start(part: &str) -> Result<Self, QrError> {
        let header = UrHeader::parse(part)?;
        let state = match header.sequence {
            None => State::Single(single_message(part)?),
            Some(_) => {
                let (meta, cbor) = meta_of(part, &header)?;
                // A new decoder per animation: nothing of an earlier one leaks in.
                let mut decoder = Box::default();
                receive(&mut decoder, part)?;
                let mut solver =
                    Solver::new(meta.count as usize, meta.length as usize, meta.checksum);
                solver.add(&cbor);
                State::Multi {
                    meta,
                    decoder,
                    solver,
                }
            }
        };
        Ok(UrAssembly {
            ur_type: header.ur_type,
            state,
        })
    }

    /// Adds a part; refuses one of another animation.
    pub fn push(&mut self, part: &str) -> Result<(), QrError> {
        let header = UrHeader::parse(part)?;
        if header.ur_type != self.ur_type {
            return Err(QrError::OtherAnimation(Mismatch::UrType {
                first: self.ur_type.clone(),
                other: header.ur_type,
            }));
        }
        match (&mut self.state, header.sequence) {
            (State::Single(message), None) => match single_message(part)? == *message {
                true => Ok(()),
                false => Err(QrError::OtherAnimation(Mismatch::SinglePart)),
            },
            (
                State::Multi {
                    meta,
                    decoder,
                    solver,
                },
                Some(_),
            ) => {
                let (other, cbor) = meta_of(part, &header)?;
                if other != *meta {
                    return Err(QrError::OtherAnimation(Mismatch::UrMessage {
                        first: meta.checksum,
                        other: other.checksum,
                    }));
                }
                receive(decoder, part)?;
                solver.add(&cbor);
                Ok(())
            }
            _ => Err(QrError::OtherAnimation(Mismatch::SinglePart)),
        }
    }

    /// `(resolved, total)` fragments.
    pub fn progress(&self) -> (usize, usize) {
        match &self.state {
            State::Single(_) => (1, 1),
            State::Multi { decoder, .. } => (
                decoder.resolved_fragment_count().unwrap_or(0),
                decoder.fragment_count(),
            ),
        }
    }

    /// The payload, once every fragment is resolved.
    pub fn finish(self) -> Result<Payload, QrError> {
        let content = content_of(&self.ur_type).expect("checked when parsed");
        let cbor = match self.state {
            State::Single(message) => message,
            State::Multi {
                decoder, solver, ..
            } => {
                let (received, total) =
                    (decoder.resolved_fragment_count(), decoder.fragment_count());
                match decoder.message().map(|m| m.or_else(|| solver.solve())) {
                    Ok(Some(message)) => message,
                    Ok(None) => {
                        return Err(QrError::Incomplete {
                            received: received.unwrap_or(0),
                            total,
                            hint: " (any further frames of the animation help, not only the missing numbers)",
                        })
                    }
                    Err(_) => return Err(bad(PartDefect::Checksum)),
                }
            }
        };
        Ok(Payload {
            content,
            bytes: cbor_unwrap(&cbor)?,
        })
    }
}

fn single_message(part: &str) -> Result<Vec<u8>, QrError> {
    match ur::ur::decode(part) {
        Ok((ur::ur::Kind::SinglePart, message)) => Ok(message),
        _ => Err(bad(PartDefect::Payload)),
    }
}

fn receive(decoder: &mut ur::Decoder, part: &str) -> Result<(), QrError> {
    decoder.receive(part).map_err(|_| bad(PartDefect::Payload))
}

#[cfg(test)]
#[path = "ur_tests.rs"]
mod tests;

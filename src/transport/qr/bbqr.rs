//! BBQr (Coinkite) for custodia: a PSBT as file type `P`, text as `U`,
//! zlib-compressed when that is smaller. Splitting is the `bbqr` crate's
//! (fewest frames, then the smallest version); the header of every part is
//! read here, strictly, so that a frame of another animation is named as
//! such rather than joined into garbage.

use std::collections::BTreeMap;

use ::bbqr::encode::Encoding;
use ::bbqr::file_type::FileType;
use ::bbqr::join::Joined;
use ::bbqr::qr::Version;
use ::bbqr::split::{Split, SplitError, SplitOptions};

use super::frames::{capacity, EcLevel};
use super::{Content, Format, Mismatch, PartDefect, Payload, QrError};

/// The most parts of one BBQr animation (two base-36 digits).
pub const MAX_PARTS: usize = 1295;

fn bad(reason: PartDefect) -> QrError {
    QrError::BadPart {
        format: Format::Bbqr,
        reason,
    }
}

/// The part strings of `payload` for frames holding `chars` alphanumeric
/// characters. The crate sizes parts by version at error-correction level L,
/// so it is given the largest version whose L capacity fits in `chars`.
pub fn split(payload: &Payload, chars: usize, version: u8) -> Result<Vec<String>, QrError> {
    let fits = (1..=40u8)
        .rev()
        .find(|&v| capacity(v, EcLevel::L).is_ok_and(|c| c <= chars))
        .ok_or(QrError::BadVersion(version))?;
    let max_version = Version::try_from(fits).map_err(|_| QrError::BadVersion(version))?;
    let file_type = match payload.content {
        Content::Psbt => FileType::Psbt,
        Content::Text => FileType::UnicodeText,
    };
    let options = SplitOptions {
        encoding: Encoding::Zlib,
        min_split_number: 1,
        max_split_number: MAX_PARTS,
        min_version: Version::V01,
        max_version,
    };
    match Split::try_from_data(&payload.bytes, file_type, options) {
        Ok(split) => Ok(split.parts),
        Err(SplitError::CannotFit | SplitError::ZlibInputTooLarge { .. }) => Err(QrError::TooBig {
            format: Format::Bbqr,
            bytes: payload.bytes.len(),
            cap: MAX_PARTS,
            version,
        }),
        Err(_) => Err(bad(PartDefect::Data)),
    }
}

/// The 8-character header of a part: `B$`, encoding, file type, number of
/// parts and this part's index (both two upper-case base-36 digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BbqrHeader {
    /// `H`, `2` or `Z`.
    pub encoding: u8,
    /// `P`, `U`, … .
    pub file_type: u8,
    /// Number of parts.
    pub total: usize,
    /// This part's index, from 0.
    pub index: usize,
}

impl BbqrHeader {
    /// Parses the header of `part`; the data must follow it.
    pub fn parse(part: &str) -> Result<Self, QrError> {
        let b = part.as_bytes();
        if b.len() <= 8 || !b.starts_with(b"B$") {
            return Err(bad(PartDefect::Header));
        }
        let base36 = |pair: &[u8]| -> Result<usize, QrError> {
            pair.iter().try_fold(0usize, |acc, &c| {
                let digit = match c {
                    b'0'..=b'9' => c - b'0',
                    b'A'..=b'Z' => c - b'A' + 10,
                    _ => return Err(bad(PartDefect::Header)),
                };
                Ok(acc * 36 + usize::from(digit))
            })
        };
        let header = BbqrHeader {
            encoding: b[2],
            file_type: b[3],
            total: base36(&b[4..6])?,
            index: base36(&b[6..8])?,
        };
        let known = Encoding::is_known_encoding(header.encoding)
            && FileType::is_known_filetype(header.file_type);
        match known && header.total > 0 && header.index < header.total {
            true => Ok(header),
            false => Err(bad(PartDefect::Header)),
        }
    }

    fn animation(&self) -> String {
        format!(
            "B${}{}/{}",
            self.encoding as char, self.file_type as char, self.total
        )
    }
}

/// One BBQr animation being assembled.
pub struct BbqrAssembly {
    first: BbqrHeader,
    parts: BTreeMap<usize, String>,
}

impl BbqrAssembly {
    /// Starts an assembly with its first part.
    pub fn start(part: &str) -> Result<Self, QrError> {
        let first = BbqrHeader::parse(part)?;
        let mut assembly = BbqrAssembly {
            first,
            parts: BTreeMap::new(),
        };
        assembly.push(part)?;
        Ok(assembly)
    }

    /// Adds a part; a duplicate is harmless, a different part under the same
    /// index or another header is another animation.
    pub fn push(&mut self, part: &str) -> Result<(), QrError> {
        let header = BbqrHeader::parse(part)?;
        let (a, b) = (&self.first, &header);
        if (a.encoding, a.file_type, a.total) != (b.encoding, b.file_type, b.total) {
            return Err(QrError::OtherAnimation(Mismatch::BbqrHeader {
                first: a.animation(),
                other: b.animation(),
            }));
        }
        match self.parts.get(&header.index) {
            Some(known) if known != part => Err(QrError::OtherAnimation(Mismatch::BbqrDuplicate(
                header.index,
            ))),
            Some(_) => Ok(()),
            None => {
                self.parts.insert(header.index, part.to_owned());
                Ok(())
            }
        }
    }

    /// `(received, total)` parts.
    pub fn progress(&self) -> (usize, usize) {
        (self.parts.len(), self.first.total)
    }

    /// The payload, once every part is there.
    pub fn finish(self) -> Result<Payload, QrError> {
        let (received, total) = self.progress();
        if received < total {
            return Err(QrError::Incomplete {
                received,
                total,
                hint: "",
            });
        }
        let content = match FileType::from_byte(self.first.file_type) {
            Some(FileType::Psbt) => Content::Psbt,
            Some(FileType::UnicodeText) => Content::Text,
            _ => {
                return Err(QrError::WrongContent {
                    found: "a BBQr file type custodia does not read",
                    wanted: "a PSBT (P) or text (U)",
                })
            }
        };
        let joined = Joined::try_from_parts(self.parts.into_values().collect())
            .map_err(|_| bad(PartDefect::Data))?;
        Ok(Payload {
            content,
            bytes: joined.data,
        })
    }
}

#[cfg(test)]
#[path = "bbqr_tests.rs"]
mod tests;

//! Why moving bytes through QR frames failed. Every variant is bad input
//! (exit 2) except the file system failing (exit 3): a frame that does not
//! read, belongs elsewhere or leaves the set incomplete is something the
//! person at the camera can fix, and nothing is written in any of these cases.

use std::path::PathBuf;

use crate::error::{Classify, ExitCode};

use super::Format;

/// A QR transport error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// An image held no QR code that could be read.
    #[error("no QR code could be read in {0}; retake the picture (whole code in view, in focus) or leave the file out")]
    Unreadable(PathBuf),
    /// An image file could not be decoded as a picture.
    #[error("{path} is not a readable PNG image: {reason}; give PNG frames")]
    NotAnImage {
        /// The file.
        path: PathBuf,
        /// What the image decoder said.
        reason: image::ImageError,
    },
    /// A QR code held text that is neither a UR nor a BBQr part.
    #[error("a frame holds no UR or BBQr part (it starts {start:?}); scan only the animation of the PSBT or policy")]
    NotAPart {
        /// The first characters of what the frame held.
        start: String,
    },
    /// A UR part or BBQr part is malformed.
    #[error("a {format} part is malformed ({reason}); scan the animation again")]
    BadPart {
        /// UR or BBQr.
        format: Format,
        /// What is wrong with it.
        reason: PartDefect,
    },
    /// A UR part claims more fragments than any transfer custodia accepts.
    #[error("a UR part claims {claimed} fragments, more than the {cap} custodia accepts; it is not a frame of a custodia-sized PSBT, send big PSBTs as files")]
    TooManyFragments {
        /// The sequence count the part claims.
        claimed: u64,
        /// The cap.
        cap: u64,
    },
    /// The payload is too big for the chosen frames.
    #[error("{bytes} bytes need more than {cap} frames in {format} at QR version {version}; raise --qr-version or send the file itself")]
    TooBig {
        /// The format.
        format: Format,
        /// Payload size.
        bytes: usize,
        /// The frame cap of the format.
        cap: usize,
        /// The QR version asked for.
        version: u8,
    },
    /// A frame belongs to another animation (another PSBT, another format).
    #[error(
        "a frame belongs to another animation ({0}); scan the frames of one PSBT or policy only"
    )]
    OtherAnimation(Mismatch),
    /// Some parts are missing.
    #[error("the frames are incomplete: parts {received}/{total}{hint}; scan or copy the missing frames and try again")]
    Incomplete {
        /// Fragments resolved (UR) or parts received (BBQr).
        received: usize,
        /// Fragments or parts in the whole set.
        total: usize,
        /// A word on what helps.
        hint: &'static str,
    },
    /// No frames were given.
    #[error("no frames given; name PNG files or a directory holding them")]
    NoFrames,
    /// The frames hold a different kind of content than the command wants.
    #[error("the frames hold {found}, but this command needs {wanted}")]
    WrongContent {
        /// What was found.
        found: &'static str,
        /// What was wanted.
        wanted: &'static str,
    },
    /// An option is out of range.
    #[error("QR version {0} is out of range; use 1 to 40")]
    BadVersion(u8),
    /// The output directory exists and holds files.
    #[error("{0} exists and is not empty; name a new or empty directory for the frames (custodia never mixes frames of two transfers)")]
    OutputNotEmpty(PathBuf),
    /// Writing frames failed; nothing was left behind.
    #[error("cannot write frames into {path}: {source}; check that its directory exists, free space and permissions, nothing was written")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Reading or writing a file failed.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
}

/// What is wrong with a malformed part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PartDefect {
    /// The `/seq-n/` header does not parse.
    #[error("bad sequence header")]
    Sequence,
    /// The UR type is not one custodia reads.
    #[error("UR type not crypto-psbt, psbt or bytes")]
    UrType,
    /// Bytewords, CBOR or the checksum of the part do not check out.
    #[error("damaged payload")]
    Payload,
    /// The message does not check out against its checksum after assembly.
    #[error("assembled message fails its checksum")]
    Checksum,
    /// The BBQr header is invalid.
    #[error("bad BBQr header")]
    Header,
    /// The BBQr data does not decode (base32, hex or zlib).
    #[error("BBQr data does not decode")]
    Data,
    /// The payload is not a CBOR byte string where one is required.
    #[error("not a CBOR byte string")]
    Cbor,
}

/// How a frame differs from the animation being assembled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Mismatch {
    /// UR and BBQr frames are mixed.
    #[error("{first} and {other} frames are mixed")]
    Formats {
        /// The format of the first frame.
        first: Format,
        /// The format of this frame.
        other: Format,
    },
    /// Another UR type.
    #[error("UR type {other} after {first}")]
    UrType {
        /// Type of the first part.
        first: String,
        /// Type of this part.
        other: String,
    },
    /// UR: another message checksum, length or fragment count.
    #[error("UR message {other:08x} after {first:08x}")]
    UrMessage {
        /// CRC-32 of the message of the first part.
        first: u32,
        /// CRC-32 of the message of this part.
        other: u32,
    },
    /// BBQr: another header (encoding, file type or number of parts).
    #[error("BBQr header {other} after {first}")]
    BbqrHeader {
        /// Header of the first part.
        first: String,
        /// Header of this part.
        other: String,
    },
    /// BBQr: two different frames claim the same index.
    #[error("two different BBQr frames claim part {0}")]
    BbqrDuplicate(usize),
    /// A single-part UR next to other frames that differ from it.
    #[error("two different single-frame URs")]
    SinglePart,
}

impl Classify for QrError {
    fn exit_code(&self) -> ExitCode {
        match self {
            QrError::Io { source, .. } if source.kind() != std::io::ErrorKind::NotFound => {
                ExitCode::NodeOrIo
            }
            QrError::Write { .. } => ExitCode::NodeOrIo,
            _ => ExitCode::BadInput,
        }
    }
}

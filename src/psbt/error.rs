//! Why a PSBT could not be read or written. All of these are bad input (exit 2):
//! the file is not a PSBT custodia accepts, and nothing was reviewed.

use crate::error::{Classify, ExitCode};

/// A PSBT that could not be read, or written back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PsbtError {
    /// Neither base64 text nor binary starting with the PSBT magic.
    #[error("not a PSBT: expected base64 text or binary starting with `psbt\\xff`; check that the file is the PSBT the coordinator exported")]
    NotPsbt,
    /// Base64 text that does not decode.
    #[error("the PSBT is not valid base64 ({0}); the file may be damaged, export it again")]
    Base64(bitcoin::base64::DecodeError),
    /// The data ends in the middle of a field or map.
    #[error("the PSBT is truncated ({0}); the file is incomplete, copy it again")]
    Truncated(String),
    /// Bytes after the last output map.
    #[error("the PSBT has {0} bytes after its last output map; refusing a PSBT with trailing data, export it again")]
    TrailingBytes(usize),
    /// A key appears twice in one map.
    #[error("the PSBT repeats key {key} in the {map}; refusing an ambiguous PSBT")]
    DuplicateKey {
        /// Which map (global, input N, output N).
        map: String,
        /// The key in hex.
        key: String,
    },
    /// A key or value longer than any legitimate field.
    #[error(
        "the PSBT has an oversize {what} in the {map} ({len} bytes, limit {limit}); refusing it"
    )]
    Oversize {
        /// Which map.
        map: String,
        /// Key or value.
        what: &'static str,
        /// Its length.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// A field that is malformed or does not belong in this PSBT version.
    #[error("the PSBT is malformed: {0}")]
    Malformed(String),
    /// A PSBT version custodia does not read.
    #[error("PSBT version {0} is not supported; custodia reads versions 0 and 2 (create it with psbt_version=0 or 2)")]
    UnsupportedVersion(u32),
    /// A BIP-370 feature custodia deliberately does not handle.
    #[error("unsupported PSBT v2 feature: {0}; recreate the PSBT as version 0 (Bitcoin Core: createpsbt ... psbt_version=0)")]
    UnsupportedV2(String),
    /// A compact PSBT (stripped for a QR transfer): it must be re-filled
    /// against the registered policy before it is read for review.
    #[error("the PSBT is in compact form (its derivations were stripped for a QR transfer); re-fill it against the registered policy before review")]
    Compact,
    /// An input's full previous transaction is not the one its outpoint
    /// names, or has no output at the outpoint's index (BIP-174; Bitcoin
    /// Core refuses such a PSBT too).
    #[error("input {input} carries a full previous transaction that {reason}; refusing a PSBT that misstates what it spends")]
    PreviousTransaction {
        /// The input.
        input: usize,
        /// What does not match.
        reason: &'static str,
    },
    /// rust-bitcoin refused the PSBT.
    #[error("the PSBT does not parse: {0}")]
    Parse(bitcoin::psbt::Error),
    /// Writing back would have changed more than it added.
    #[error("internal: writing the PSBT back would change field {0} instead of only adding; nothing was written")]
    WouldChange(String),
    /// The input file or stdin could not be read.
    #[error(
        "cannot read the PSBT from {what}: {source}; check the path and that this user may read it"
    )]
    Read {
        /// The path, or "standard input".
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl Classify for PsbtError {
    fn exit_code(&self) -> ExitCode {
        match self {
            // A path that does not exist is a usage mistake; anything else
            // (permissions, a failing disk) is an I/O failure.
            PsbtError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                ExitCode::BadInput
            }
            PsbtError::Read { .. } => ExitCode::NodeOrIo,
            _ => ExitCode::BadInput,
        }
    }
}

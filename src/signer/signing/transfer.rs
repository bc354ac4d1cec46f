//! Where a signer command's PSBT comes from and goes to: a file, or QR
//! frames, full or compact. Frames carry the PSBT in binary, as both formats
//! define it.

use std::path::PathBuf;

use super::session::SessionError;
use crate::policy::VaultPolicy;
use crate::psbt::compact::{strip_bytes, Received};
use crate::psbt::read::read_bytes;
use crate::psbt::Encoding;
use crate::signer::cli::{PsbtInput, PsbtOutput};
use crate::transport::qr::{self, frames, Content, Payload, PreparedFrames};
use crate::transport::PreparedFile;

/// Reads the PSBT from its file or its frames, full or compact.
pub fn read_input(input: &PsbtInput) -> Result<Received, SessionError> {
    let bytes = match &input.psbt {
        Some(path) => read_bytes(path)?,
        None => qr::read_frames(&input.qr.qr_in, &mut |_, _| {})?.expect(Content::Psbt)?,
    };
    Ok(Received::from_bytes(&bytes)?)
}

/// Refuses, before anything is signed, an output that exists (a file) or
/// is a directory with files in it (frames).
pub fn check_output(output: &PsbtOutput) -> Result<(), SessionError> {
    match (&output.output, &output.qr.out.qr_out) {
        (Some(file), _) if file.exists() => Err(SessionError::OutputExists(file.clone())),
        (_, Some(dir)) => Ok(frames::check_output_dir(dir)?),
        _ => Ok(()),
    }
}

/// The encoding the new PSBT is written in: frames hold binary.
pub fn encoding(output: &PsbtOutput, read: Encoding) -> Encoding {
    match output.qr.out.qr_out {
        Some(_) => Encoding::Binary,
        None => output.format.unwrap_or(read),
    }
}

/// The new PSBT, written under a temporary name beside its place: the
/// signer logs, then [`Prepared::commit`] only renames. A write that fails
/// (a full disk, a directory that cannot be written) fails before anything
/// is logged.
#[derive(Debug)]
pub enum Prepared {
    /// A file.
    File(PreparedFile),
    /// QR frames.
    Frames(PreparedFrames),
}

/// Prepares the new PSBT (`bytes`, full) for `output`: a file, or frames,
/// compact under `--qr-compact` (stripped against `policy`).
pub fn prepare(
    output: &PsbtOutput,
    bytes: &[u8],
    policy: &VaultPolicy,
) -> Result<Prepared, SessionError> {
    match (&output.output, &output.qr.out.qr_out) {
        (Some(file), _) => Ok(Prepared::File(PreparedFile::new(file, bytes)?)),
        (None, Some(dir)) => {
            let bytes = match output.qr.qr_compact {
                true => strip_bytes(bytes, policy)?,
                false => bytes.to_vec(),
            };
            let payload = Payload {
                content: Content::Psbt,
                bytes,
            };
            let spec = output.qr.out.frames.spec();
            Ok(Prepared::Frames(qr::prepare_frames(&payload, &spec, dir)?))
        }
        (None, None) => unreachable!("clap requires --output or --qr-out"),
    }
}

impl Prepared {
    /// Puts the new PSBT in place and returns where it went.
    pub fn commit(self) -> Result<PathBuf, SessionError> {
        match self {
            Prepared::File(file) => {
                let path = file.path().to_owned();
                file.commit()?;
                Ok(path)
            }
            Prepared::Frames(frames) => Ok(frames.commit()?.dir),
        }
    }
}

//! Where a signer command's PSBT comes from and goes to: a file, or QR
//! frames. Frames carry the PSBT in binary, as both formats define it.

use std::path::PathBuf;

use super::session::SessionError;
use crate::psbt::{Encoding, PsbtDocument};
use crate::signer::cli::{PsbtInput, PsbtOutput};
use crate::transport::qr::{self, frames, Content, Payload};
use crate::transport::write_new_atomically;

/// Reads the PSBT from its file or its frames.
pub fn read_input(input: &PsbtInput) -> Result<PsbtDocument, SessionError> {
    match &input.psbt {
        Some(path) => Ok(PsbtDocument::read(path)?),
        None => {
            let payload = qr::read_frames(&input.qr.qr_in, &mut |_, _| {})?;
            Ok(PsbtDocument::from_bytes(&payload.expect(Content::Psbt)?)?)
        }
    }
}

/// Refuses, before anything is signed, an output that exists (a file) or
/// is a directory with files in it (frames).
pub fn check_output(output: &PsbtOutput) -> Result<(), SessionError> {
    match (&output.output, &output.qr.qr_out) {
        (Some(file), _) if file.exists() => Err(SessionError::OutputExists(file.clone())),
        (_, Some(dir)) => Ok(frames::check_output_dir(dir)?),
        _ => Ok(()),
    }
}

/// The encoding the new PSBT is written in: frames hold binary.
pub fn encoding(output: &PsbtOutput, read: Encoding) -> Encoding {
    match output.qr.qr_out {
        Some(_) => Encoding::Binary,
        None => output.format.unwrap_or(read),
    }
}

/// Writes the new PSBT (never over anything) and returns where it went.
pub fn deliver(output: &PsbtOutput, bytes: &[u8]) -> Result<PathBuf, SessionError> {
    match (&output.output, &output.qr.qr_out) {
        (Some(file), _) => {
            write_new_atomically(file, bytes)?;
            Ok(file.clone())
        }
        (None, Some(dir)) => {
            let payload = Payload {
                content: Content::Psbt,
                bytes: bytes.to_vec(),
            };
            Ok(qr::write_frames(&payload, &output.qr.frames.spec(), dir)?.dir)
        }
        (None, None) => unreachable!("clap requires --output or --qr-out"),
    }
}

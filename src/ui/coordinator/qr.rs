//! The coordinator's QR frames: proposals, merged copies and raw
//! transactions written as frames beside their files, and copies read from
//! frames. The coordinator keeps its files either way; frames are how a PSBT
//! reaches an air-gapped signer and comes back.

use std::path::{Path, PathBuf};

use crate::coordinator::CoordinatorError;
use crate::policy::VaultPolicy;
use crate::psbt::compact::strip_bytes;
use crate::transport::qr::args::{PsbtQrOutArgs, QrOutArgs};
use crate::transport::qr::{self, frames, FramesWritten};
use crate::transport::write_new_atomically;

/// `--qr-in` (repeatable) and `--qr-out` of `finalize`, whose frames carry
/// the raw transaction.
#[derive(Debug, Clone, clap::Args)]
pub struct CollectFrames {
    /// A copy as QR frames (a directory or frame files of one animation, full or compact); repeat for several.
    #[arg(long = "qr-in", value_name = "DIR|FILE")]
    pub qr_in: Vec<PathBuf>,
    /// Also write the result as QR frames.
    #[command(flatten)]
    pub qr: QrOutArgs,
}

/// `--qr-in` (repeatable) and `--qr-out` of `combine`, whose frames carry
/// the merged PSBT, compact if asked.
#[derive(Debug, Clone, clap::Args)]
pub struct CombineFrames {
    /// A copy as QR frames (a directory or frame files of one animation, full or compact); repeat for several.
    #[arg(long = "qr-in", value_name = "DIR|FILE")]
    pub qr_in: Vec<PathBuf>,
    /// Also write the merged PSBT as QR frames.
    #[command(flatten)]
    pub qr: PsbtQrOutArgs,
}

/// Refuses a `--qr-out` directory with files in it before anything is done.
pub fn check_out(qr: &QrOutArgs) -> Result<(), CoordinatorError> {
    if let Some(dir) = &qr.qr_out {
        frames::check_output_dir(dir)?;
    }
    Ok(())
}

/// Writes the frames of `file` when `--qr-out` asks for them.
pub fn frames_of(file: &Path, qr: &QrOutArgs) -> Result<Option<FramesWritten>, CoordinatorError> {
    let Some(dir) = &qr.qr_out else {
        return Ok(None);
    };
    let payload = crate::ui::qr::payload_of(read(file)?, false);
    Ok(Some(qr::write_frames(&payload, &qr.frames.spec(), dir)?))
}

/// Writes the frames of the PSBT `file` when `--qr-out` asks for them,
/// compact (stripped against `policy`) under `--qr-compact`.
pub fn psbt_frames_of(
    file: &Path,
    qr: &PsbtQrOutArgs,
    policy: &VaultPolicy,
) -> Result<Option<FramesWritten>, CoordinatorError> {
    if !qr.qr_compact {
        return frames_of(file, &qr.out);
    }
    let Some(dir) = &qr.out.qr_out else {
        return Ok(None);
    };
    let bytes = strip_bytes(&read(file)?, policy).map_err(|source| CoordinatorError::Compact {
        path: file.to_owned(),
        source,
    })?;
    let payload = qr::Payload {
        content: qr::Content::Psbt,
        bytes,
    };
    Ok(Some(qr::write_frames(
        &payload,
        &qr.out.frames.spec(),
        dir,
    )?))
}

fn read(file: &Path) -> Result<Vec<u8>, CoordinatorError> {
    Ok(std::fs::read(file).map_err(|source| qr::QrError::Io {
        path: file.to_owned(),
        source,
    })?)
}

/// The PSBT files given plus one file per animation of frames, decoded into
/// a private temporary directory that lives as long as this value.
pub struct Inputs {
    _dir: Option<tempfile::TempDir>,
    /// Every PSBT file to read.
    pub paths: Vec<PathBuf>,
}

/// `psbts` and the PSBTs of the animations `qr_in` names, each decoded.
pub fn with_frames(psbts: &[PathBuf], qr_in: &[PathBuf]) -> Result<Inputs, CoordinatorError> {
    let mut paths = psbts.to_vec();
    if qr_in.is_empty() {
        return Ok(Inputs { _dir: None, paths });
    }
    let dir = tempfile::tempdir().map_err(|source| qr::QrError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    for (i, animation) in qr_in.iter().enumerate() {
        let payload = crate::ui::qr::read_frames(std::slice::from_ref(animation))?;
        let file = dir.path().join(format!("frames-{}.psbt", i + 1));
        write_new_atomically(&file, &payload.expect(qr::Content::Psbt)?)?;
        paths.push(file);
    }
    Ok(Inputs {
        _dir: Some(dir),
        paths,
    })
}

//! The QR options the programs share: where frames are read from, where
//! they are written, and how they are made.

use std::path::PathBuf;

use super::frames::{EcLevel, FrameSpec, DEFAULT_VERSION};
use super::Format;

/// How frames are made (`--qr-format`, `--qr-version`, `--qr-ec`, …).
#[derive(Debug, Clone, clap::Args)]
pub struct FrameArgs {
    /// QR format of the frames: ur (crypto-psbt, fountain-coded) or bbqr.
    #[arg(long, value_enum, default_value = "ur")]
    pub qr_format: Format,
    /// Largest QR version (1-40); higher holds more per frame but needs a better camera.
    #[arg(long, default_value_t = DEFAULT_VERSION, value_name = "N")]
    pub qr_version: u8,
    /// QR error-correction level.
    #[arg(long, value_enum, default_value = "m")]
    pub qr_ec: EcLevel,
    /// Pixels per QR module in PNG frames.
    #[arg(long, default_value_t = 8, value_name = "PX")]
    pub qr_scale: u32,
    /// UR only: extra fountain frames, in percent of the needed ones, to make up for lost frames.
    #[arg(long, default_value_t = 50, value_name = "PERCENT")]
    pub qr_extra: u16,
}

impl FrameArgs {
    /// The frame spec these options ask for.
    pub fn spec(&self) -> FrameSpec {
        FrameSpec {
            format: self.qr_format,
            version: self.qr_version,
            ec: self.qr_ec,
            scale: self.qr_scale,
            ur_extra_percent: self.qr_extra,
        }
    }
}

/// `--qr-out DIR` and how its frames are made.
#[derive(Debug, Clone, clap::Args)]
pub struct QrOutArgs {
    /// Write the result as numbered QR frames (PNG and SVG) into this new or empty directory.
    #[arg(long, value_name = "DIR")]
    pub qr_out: Option<PathBuf>,
    /// How the frames are made.
    #[command(flatten)]
    pub frames: FrameArgs,
}

/// `--qr-out DIR` for a PSBT, which may go compact (`--qr-compact`).
#[derive(Debug, Clone, clap::Args)]
pub struct PsbtQrOutArgs {
    /// Where and how the frames are written.
    #[command(flatten)]
    pub out: QrOutArgs,
    /// Leave out of the frames what a signer that registered the policy
    /// re-derives itself (docs/qr-compact.md): far fewer frames, read only
    /// by custodia, which re-fills the PSBT before anything looks at it.
    #[arg(long, requires = "qr_out")]
    pub qr_compact: bool,
}

/// `--qr-in FILES|DIR`: read the input from QR frames.
#[derive(Debug, Clone, clap::Args)]
pub struct QrInArgs {
    /// Read the input from QR frame images (PNG files, or directories of them), in any order.
    #[arg(long = "qr-in", value_name = "FILE|DIR", num_args = 1..)]
    pub qr_in: Vec<PathBuf>,
}

impl QrInArgs {
    /// Whether frames were named.
    pub fn given(&self) -> bool {
        !self.qr_in.is_empty()
    }
}

/// `qr encode` / `qr decode`: any file through QR frames.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum QrCommand {
    /// Split a file (a PSBT, binary or base64, or any text) into QR frames.
    Encode {
        /// The file.
        file: PathBuf,
        /// Write numbered PNG and SVG frames into this new or empty directory.
        #[arg(short, long, value_name = "DIR", required_unless_present = "show")]
        out: Option<PathBuf>,
        /// Play the frames in the terminal (Unicode half blocks).
        #[arg(long)]
        show: bool,
        /// Frames per second when playing.
        #[arg(long, default_value_t = 4, value_name = "N")]
        fps: u32,
        /// Times to play the animation (0: until interrupted).
        #[arg(long, default_value_t = 0, value_name = "N")]
        loops: u32,
        /// Send the file as text even if it reads as a PSBT.
        #[arg(long)]
        text: bool,
        /// How the frames are made.
        #[command(flatten)]
        frames: FrameArgs,
    },
    /// Read QR frames (PNG files or directories, any order) back into the file.
    Decode {
        /// The frame images, or directories of them.
        #[arg(required = true, value_name = "FILE|DIR")]
        frames: Vec<PathBuf>,
        /// The file to create (never overwritten). A PSBT is written in binary.
        #[arg(short, long)]
        output: PathBuf,
    },
}

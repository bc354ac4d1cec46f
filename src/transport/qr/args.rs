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

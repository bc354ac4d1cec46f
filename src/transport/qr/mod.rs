//! PSBTs and policy files across the air gap as animated QR codes, in the
//! two formats wallets speak: UR (`crypto-psbt`, BCR-2020-005/006, with
//! fountain codes, so lost frames are made up by extra ones) and BBQr
//! (Coinkite; zlib-compressed, numbered parts).
//!
//! This layer carries opaque bytes, tagged only with what they are
//! ([`Content`]): it never parses a PSBT. What the bytes are checked
//! against is the caller's business, as it is for a file.
//!
//! - [`ur`] and [`bbqr`]: split bytes into part strings, and assemble them;
//! - [`assemble`]: one assembler that takes parts of either format in any
//!   order and refuses a part of another animation;
//! - [`frames`]: part strings rendered as QR codes (PNG, SVG, terminal);
//! - [`scan`]: image files read back into part strings (rxing);
//! - [`args`]: the `--qr-in` / `--qr-out` options the programs share.

use std::path::{Path, PathBuf};

pub mod args;
pub mod assemble;
pub mod bbqr;
mod error;
mod fountain;
pub mod frames;
pub mod scan;
pub mod ur;

pub use assemble::{Assembler, Progress};
pub use error::{Mismatch, PartDefect, QrError};
pub use frames::{EcLevel, FrameSpec, FramesWritten, PreparedFrames};

/// The two QR formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Uniform Resources (`ur:crypto-psbt`, `ur:bytes`), fountain-coded.
    Ur,
    /// BBQr (`B$…`), zlib-compressed numbered parts.
    Bbqr,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Ur => "UR",
            Format::Bbqr => "BBQr",
        })
    }
}

/// What the carried bytes are, as the formats label them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Content {
    /// A PSBT in binary form: UR `crypto-psbt` (or `psbt`), BBQr file type `P`.
    Psbt,
    /// Text, such as a policy file: UR `bytes`, BBQr file type `U`.
    Text,
}

impl Content {
    /// A name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Content::Psbt => "a PSBT",
            Content::Text => "text (a policy file)",
        }
    }
}

/// Bytes with their label: what goes into frames and comes out of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// What the bytes are.
    pub content: Content,
    /// The bytes, exactly as given to the sender.
    pub bytes: Vec<u8>,
}

impl Payload {
    /// The bytes, if they are `wanted`; else a typed error naming both.
    pub fn expect(self, wanted: Content) -> Result<Vec<u8>, QrError> {
        match self.content == wanted {
            true => Ok(self.bytes),
            false => Err(QrError::WrongContent {
                found: self.content.name(),
                wanted: wanted.name(),
            }),
        }
    }
}

/// The part strings of one payload, in the order they are shown.
pub fn split(payload: &Payload, spec: &FrameSpec) -> Result<Vec<String>, QrError> {
    let capacity = frames::capacity(spec.version, spec.ec)?;
    match spec.format {
        Format::Ur => ur::split(payload, capacity, spec.version, spec.ur_extra_percent),
        Format::Bbqr => bbqr::split(payload, capacity, spec.version),
    }
}

/// Reads every image in `inputs` (files, or directories of `.png` files),
/// in any order, and assembles the payload. `seen` is told each file and the
/// progress after it, for a progress display. Any frame that does not read,
/// belongs to another animation, or a set that stays incomplete is an error.
pub fn read_frames(
    inputs: &[PathBuf],
    seen: &mut dyn FnMut(&Path, Progress),
) -> Result<Payload, QrError> {
    let files = scan::frame_files(inputs)?;
    let mut assembler = Assembler::new();
    for file in &files {
        let part = scan::read_part(file)?;
        let progress = assembler.push(&part)?;
        seen(file, progress);
    }
    assembler.finish()
}

/// Reads frames holding text (a policy file) and returns it.
pub fn read_text(inputs: &[PathBuf]) -> Result<String, QrError> {
    let bytes = read_frames(inputs, &mut |_, _| {})?.expect(Content::Text)?;
    String::from_utf8(bytes).map_err(|_| QrError::WrongContent {
        found: "bytes that are not UTF-8 text",
        wanted: Content::Text.name(),
    })
}

/// Splits `payload` and writes its frames into `dir` (see [`frames::write_frames`]).
pub fn write_frames(
    payload: &Payload,
    spec: &FrameSpec,
    dir: &Path,
) -> Result<FramesWritten, QrError> {
    prepare_frames(payload, spec, dir)?.commit()
}

/// Splits `payload` and renders its frames for `dir`, not yet visible there
/// (see [`frames::prepare_frames`]).
pub fn prepare_frames(
    payload: &Payload,
    spec: &FrameSpec,
    dir: &Path,
) -> Result<PreparedFrames, QrError> {
    let parts = split(payload, spec)?;
    frames::prepare_frames(dir, &parts, spec)
}

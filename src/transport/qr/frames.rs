//! Part strings as QR codes: PNG and SVG files, and text for a terminal.
//!
//! Every frame is built from one explicit alphanumeric segment: `qrcode`'s
//! automatic mode optimiser can pick a mix of modes that overflows a frame
//! filled to capacity, and both formats' parts are alphanumeric by design.

use std::io::Write;
use std::path::{Path, PathBuf};

use qrcode::bits::Bits;
use qrcode::render::{svg, unicode};
use qrcode::types::Mode;
use qrcode::{QrCode, Version};

use super::{Format, QrError};

/// QR error-correction level: more correction, less data per frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum EcLevel {
    /// About 7 % of the code may be damaged.
    L,
    /// About 15 %.
    M,
    /// About 25 %.
    Q,
    /// About 30 %.
    H,
}

impl From<EcLevel> for qrcode::EcLevel {
    fn from(ec: EcLevel) -> Self {
        match ec {
            EcLevel::L => qrcode::EcLevel::L,
            EcLevel::M => qrcode::EcLevel::M,
            EcLevel::Q => qrcode::EcLevel::Q,
            EcLevel::H => qrcode::EcLevel::H,
        }
    }
}

/// How frames are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSpec {
    /// UR or BBQr.
    pub format: Format,
    /// The largest QR version (1–40) a frame may use; smaller ones are used
    /// when the parts fit.
    pub version: u8,
    /// Error-correction level.
    pub ec: EcLevel,
    /// Pixels per QR module in PNG frames.
    pub scale: u32,
    /// UR only: fountain parts beyond the pure fragments, in percent of them.
    pub ur_extra_percent: u16,
}

/// The defaults: version 12 (65 × 65 modules) at level M. On a laptop
/// screen a module is then about 1.5 mm at 8 pixels, which phone cameras and
/// laptop webcams resolve at arm's length; denser versions hold more per
/// frame but need a steady, close camera.
pub const DEFAULT_VERSION: u8 = 12;

impl Default for FrameSpec {
    fn default() -> Self {
        FrameSpec {
            format: Format::Ur,
            version: DEFAULT_VERSION,
            ec: EcLevel::M,
            scale: 8,
            ur_extra_percent: 50,
        }
    }
}

/// Alphanumeric characters a QR code of `version` at `ec` holds.
pub fn capacity(version: u8, ec: EcLevel) -> Result<usize, QrError> {
    if !(1..=40).contains(&version) {
        return Err(QrError::BadVersion(version));
    }
    let v = Version::Normal(i16::from(version));
    let bits = Bits::new(v)
        .max_len(ec.into())
        .map_err(|_| QrError::BadVersion(version))?;
    // Mode indicator and character count, then 11 bits per pair and 6 for an odd one.
    let data = bits.saturating_sub(4 + Mode::Alphanumeric.length_bits_count(v));
    Ok(data / 11 * 2 + usize::from(data % 11 >= 6))
}

/// The QR code of one part at `version`.
pub fn render(part: &str, version: u8, ec: EcLevel) -> Result<QrCode, QrError> {
    let mut bits = Bits::new(Version::Normal(i16::from(version)));
    let too_long = |_| QrError::BadVersion(version);
    bits.push_alphanumeric_data(part.as_bytes())
        .map_err(too_long)?;
    bits.push_terminator(ec.into()).map_err(too_long)?;
    QrCode::with_bits(bits, ec.into()).map_err(too_long)
}

/// The smallest version up to `spec.version` that holds the longest part:
/// every frame of one animation has the same size.
pub fn version_for(parts: &[String], spec: &FrameSpec) -> Result<u8, QrError> {
    let longest = parts.iter().map(String::len).max().unwrap_or(0);
    for v in 1..=spec.version {
        if capacity(v, spec.ec)? >= longest {
            return Ok(v);
        }
    }
    Err(QrError::BadVersion(spec.version))
}

/// A PNG image of `code`: `scale` pixels per module, a quiet zone of four.
pub fn png(code: &QrCode, scale: u32) -> Vec<u8> {
    let scale = scale.max(1);
    let width = code.width() as u32;
    let side = (width + 8) * scale;
    let colors = code.to_colors();
    let image = image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = ((x / scale).wrapping_sub(4), (y / scale).wrapping_sub(4));
        let dark =
            mx < width && my < width && colors[(my * width + mx) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(image.as_raw(), side, side, image::ExtendedColorType::L8)
        .expect("encoding to memory cannot fail");
    out
}

use image::ImageEncoder as _;

/// An SVG image of `code`.
pub fn svg(code: &QrCode) -> String {
    code.render::<svg::Color>().min_dimensions(256, 256).build()
}

/// `code` in Unicode half blocks (two modules per character), light modules
/// drawn, so that it reads on a dark terminal.
pub fn terminal(code: &QrCode) -> String {
    code.render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .build()
}

/// What [`write_frames`] wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FramesWritten {
    /// The directory.
    pub dir: PathBuf,
    /// Frames (each as `NNNN.png` and `NNNN.svg`).
    pub frames: usize,
    /// UR or BBQr.
    pub format: Format,
    /// QR version of the frames.
    pub version: u8,
}

/// Writes `parts` as `0001.png`, `0001.svg`, … into `dir`, which must not
/// exist or be empty. The frames are written into a temporary directory
/// beside it, synced, and renamed into place: a reader sees no frame or all.
pub fn write_frames(
    dir: &Path,
    parts: &[String],
    spec: &FrameSpec,
) -> Result<FramesWritten, QrError> {
    prepare_frames(dir, parts, spec)?.commit()
}

/// Frames rendered and synced in a temporary directory beside their place,
/// not yet visible there (see [`write_frames`]). Dropped without
/// [`commit`](PreparedFrames::commit), they leave nothing behind.
#[derive(Debug)]
pub struct PreparedFrames {
    tmp: tempfile::TempDir,
    written: FramesWritten,
}

/// Renders `parts` for `dir` (which must not exist or be empty) into a
/// temporary directory beside it.
pub fn prepare_frames(
    dir: &Path,
    parts: &[String],
    spec: &FrameSpec,
) -> Result<PreparedFrames, QrError> {
    check_output_dir(dir)?;
    let version = version_for(parts, spec)?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".custodia-frames-")
        .tempdir_in(parent)
        .map_err(|source| QrError::Write {
            path: dir.to_owned(),
            source,
        })?;
    for (i, part) in parts.iter().enumerate() {
        let code = render(part, version, spec.ec)?;
        let name = format!("{:04}", i + 1);
        write_synced(
            &tmp.path().join(format!("{name}.png")),
            &png(&code, spec.scale),
        )?;
        write_synced(
            &tmp.path().join(format!("{name}.svg")),
            svg(&code).as_bytes(),
        )?;
    }
    Ok(PreparedFrames {
        tmp,
        written: FramesWritten {
            dir: dir.to_owned(),
            frames: parts.len(),
            format: spec.format,
            version,
        },
    })
}

impl PreparedFrames {
    /// What the frames will be once committed.
    pub fn written(&self) -> &FramesWritten {
        &self.written
    }

    /// Renames the frames' directory into place.
    pub fn commit(self) -> Result<FramesWritten, QrError> {
        let dir = &self.written.dir;
        crate::crash_point::reached("rename frames into place");
        // Renaming onto an existing empty directory replaces it; onto one
        // that gained files meanwhile it fails, and nothing is mixed.
        std::fs::rename(self.tmp.path(), dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::DirectoryNotEmpty | std::io::ErrorKind::AlreadyExists => {
                QrError::OutputNotEmpty(dir.to_owned())
            }
            _ => QrError::Write {
                path: dir.to_owned(),
                source: e,
            },
        })?;
        // The directory now lives under its final name; nothing is left to
        // remove.
        let _ = self.tmp.keep();
        crate::transport::sync_parent(dir).map_err(|source| QrError::Write {
            path: dir.to_owned(),
            source,
        })?;
        Ok(self.written)
    }
}

/// Refuses an output directory that exists and is not empty, or is a file.
pub fn check_output_dir(dir: &Path) -> Result<(), QrError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(QrError::OutputNotEmpty(dir.to_owned())),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if dir.exists() => Err(QrError::OutputNotEmpty(dir.to_owned())),
        Err(source) => Err(QrError::Io {
            path: dir.to_owned(),
            source,
        }),
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), QrError> {
    let io = |source| QrError::Write {
        path: path.to_owned(),
        source,
    };
    crate::crash_point::reached("write frame");
    let mut file = std::fs::File::create_new(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    crate::crash_point::reached("sync frame");
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_matches_the_qr_tables() {
        // ISO 18004 alphanumeric capacities.
        assert_eq!(capacity(1, EcLevel::L).unwrap(), 25);
        assert_eq!(capacity(12, EcLevel::M).unwrap(), 419);
        assert_eq!(capacity(20, EcLevel::L).unwrap(), 1249);
        assert_eq!(capacity(40, EcLevel::L).unwrap(), 4296);
        assert_eq!(capacity(40, EcLevel::H).unwrap(), 1852);
        assert!(capacity(0, EcLevel::L).is_err());
        assert!(capacity(41, EcLevel::L).is_err());
    }

    #[test]
    fn a_full_frame_renders() {
        for (v, ec) in [(5, EcLevel::L), (12, EcLevel::M), (20, EcLevel::H)] {
            let part = "B$ZP".repeat(capacity(v, ec).unwrap() / 4 + 1);
            let part = &part[..capacity(v, ec).unwrap()];
            let code = render(part, v, ec).unwrap();
            assert_eq!(code.version(), Version::Normal(i16::from(v)));
            assert!(render(&format!("{part}A"), v, ec).is_err());
        }
    }

    #[test]
    fn a_non_empty_output_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        check_output_dir(dir.path()).unwrap();
        check_output_dir(&dir.path().join("new")).unwrap();
        std::fs::write(dir.path().join("x"), b"x").unwrap();
        assert!(matches!(
            check_output_dir(dir.path()),
            Err(QrError::OutputNotEmpty(_))
        ));
    }
}

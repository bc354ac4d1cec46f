//! Image files back into part strings, with rxing (a Rust port of ZXing):
//! it reads blurred and rescaled frames that simpler decoders miss, and
//! needs nothing but the pixels.

use std::path::{Path, PathBuf};

use rxing::BarcodeFormat;

use super::QrError;

/// The largest PNG file read (a 40-version frame at 16 px per module is
/// far smaller); bigger is not a frame.
const MAX_IMAGE_BYTES: u64 = 32 * 1024 * 1024;

/// The image files named by `inputs`: files as given, directories by their
/// `.png` files in name order. Empty is an error.
pub fn frame_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, QrError> {
    let mut files = Vec::new();
    for input in inputs {
        let io = |source| QrError::Io {
            path: input.clone(),
            source,
        };
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(io)?
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()
                .map_err(io)?;
            found.retain(|p| {
                p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"))
            });
            found.sort();
            files.extend(found);
        } else {
            std::fs::metadata(input).map_err(io)?;
            files.push(input.clone());
        }
    }
    match files.is_empty() {
        true => Err(QrError::NoFrames),
        false => Ok(files),
    }
}

/// The text of the QR code in the PNG image at `path`.
pub fn read_part(path: &Path) -> Result<String, QrError> {
    let io = |source| QrError::Io {
        path: path.to_owned(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_IMAGE_BYTES {
        return Err(QrError::Unreadable(path.to_owned()));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let image = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
        .map_err(|reason| QrError::NotAnImage {
            path: path.to_owned(),
            reason,
        })?
        .to_luma8();
    read_luma(image.as_raw(), image.width(), image.height())
        .ok_or_else(|| QrError::Unreadable(path.to_owned()))
}

/// The text of the QR code in a grey image, if one reads.
pub fn read_luma(luma: &[u8], width: u32, height: u32) -> Option<String> {
    rxing::helpers::detect_in_luma_slice(luma, width, height, Some(BarcodeFormat::QR_CODE))
        .ok()
        .map(|r| r.getText().to_owned())
}

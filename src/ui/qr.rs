//! `qr encode` and `qr decode` of the signer, and the drawing the library
//! leaves to the programs: progress while frames are read, and the
//! animation in the terminal.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use crate::transport::qr::args::QrCommand;
use crate::transport::qr::{self, frames, Content, FrameSpec, Payload, Progress};
use crate::transport::write_new_atomically;

/// Where and how a policy's frames go (`policy qr`).
#[derive(Debug, Clone, clap::Args)]
pub struct PolicyFrames {
    /// Write numbered PNG and SVG frames into this new or empty directory.
    #[arg(short, long, value_name = "DIR", required_unless_present = "show")]
    pub out: Option<std::path::PathBuf>,
    /// Play the frames in the terminal (Unicode half blocks).
    #[arg(long)]
    pub show: bool,
    /// Frames per second when playing.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub fps: u32,
    /// Times to play the animation (0: until interrupted).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub loops: u32,
    /// How the frames are made.
    #[command(flatten)]
    pub frames: crate::transport::qr::args::FrameArgs,
}

impl PolicyFrames {
    /// The `qr encode` of `file` as text.
    pub fn encode(self, file: std::path::PathBuf) -> QrCommand {
        QrCommand::Encode {
            file,
            out: self.out,
            show: self.show,
            fps: self.fps,
            loops: self.loops,
            text: true,
            frames: self.frames,
        }
    }
}

/// Runs `qr encode` or `qr decode`.
pub fn run(command: QrCommand) -> Result<()> {
    match command {
        QrCommand::Encode {
            file,
            out,
            show,
            fps,
            loops,
            text,
            frames,
        } => {
            let data = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let payload = payload_of(data, text);
            let spec = frames.spec();
            if let Some(dir) = out {
                let written = qr::write_frames(&payload, &spec, &dir)?;
                println!("{}", written_text(&written));
            }
            if show {
                animate(&qr::split(&payload, &spec)?, &spec, fps, loops)?;
            }
        }
        QrCommand::Decode { frames, output } => {
            if output.exists() {
                return Err(crate::transport::FileError::Exists(output).into());
            }
            let payload = read_frames(&frames)?;
            write_new_atomically(&output, &payload.bytes)?;
            println!(
                "{} ({} bytes) written to {}",
                payload.content.name(),
                payload.bytes.len(),
                output.display()
            );
        }
    }
    Ok(())
}

/// What a file is sent as: a PSBT (binary; base64 is decoded), full or
/// compact, unless it is none or `text` is asked for.
pub fn payload_of(data: Vec<u8>, text: bool) -> Payload {
    let encoding = (!text)
        .then(|| crate::psbt::read::decode_any(&data).ok())
        .flatten()
        .map(|doc| doc.encoding());
    match encoding {
        Some(crate::psbt::Encoding::Binary) => Payload {
            content: Content::Psbt,
            bytes: data,
        },
        Some(_) => {
            use bitcoin::base64::Engine as _;
            let text: String = String::from_utf8_lossy(&data).split_whitespace().collect();
            let bytes = bitcoin::base64::engine::general_purpose::STANDARD
                .decode(text)
                .expect("read as a base64 PSBT just now");
            Payload {
                content: Content::Psbt,
                bytes,
            }
        }
        None => Payload {
            content: Content::Text,
            bytes: data,
        },
    }
}

/// The line printed after frames were written.
pub fn written_text(w: &frames::FramesWritten) -> String {
    format!(
        "{} {} frames (QR version {}) written to {}; show them in order, looping, to the other machine's camera",
        w.frames,
        w.format,
        w.version,
        w.dir.display()
    )
}

/// Reads frames, redrawing "parts 12/20" on standard error when it is a
/// terminal, and telling the final count either way.
pub fn read_frames(inputs: &[std::path::PathBuf]) -> Result<Payload, qr::QrError> {
    use std::io::IsTerminal;
    let mut stderr = std::io::stderr();
    let live = stderr.is_terminal();
    let (mut frames, mut last) = (0, None);
    let result = qr::read_frames(inputs, &mut |file: &Path, p: Progress| {
        frames += 1;
        last = Some(p);
        if live {
            let _ = write!(
                stderr,
                "\r\x1b[Kreading QR frames: {p} ({})",
                file.display()
            );
        }
    });
    if let Some(p) = last {
        let _ = writeln!(
            stderr,
            "{}read {frames} QR frames: {p}",
            if live { "\r\x1b[K" } else { "" }
        );
    }
    result
}

/// Plays `parts` as QR codes in the terminal, `fps` frames a second,
/// `loops` times (0: until interrupted).
pub fn animate(parts: &[String], spec: &FrameSpec, fps: u32, loops: u32) -> Result<()> {
    let version = frames::version_for(parts, spec)?;
    let drawn = parts
        .iter()
        .map(|p| frames::render(p, version, spec.ec).map(|c| frames::terminal(&c)))
        .collect::<Result<Vec<_>, _>>()?;
    let pause = Duration::from_millis(1000 / u64::from(fps.max(1)));
    let mut out = std::io::stdout().lock();
    let mut round = 0;
    while loops == 0 || round < loops {
        for (i, frame) in drawn.iter().enumerate() {
            write!(
                out,
                "\x1b[H\x1b[2J{frame}\nframe {}/{}\n",
                i + 1,
                drawn.len()
            )?;
            out.flush()?;
            std::thread::sleep(pause);
        }
        round += 1;
    }
    Ok(())
}

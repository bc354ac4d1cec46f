//! One assembler for parts of either format, in any order, duplicates
//! welcome. The first part decides the format and the animation; a part of
//! any other is refused with [`QrError::OtherAnimation`], never skipped, so
//! a stray frame of another PSBT cannot go unnoticed.

use super::bbqr::BbqrAssembly;
use super::ur::UrAssembly;
use super::{Format, Mismatch, Payload, QrError};

/// How far an assembly is: "parts 12/20".
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    /// The format, once a part was seen.
    pub format: Option<Format>,
    /// Fragments resolved (UR) or parts received (BBQr).
    pub received: usize,
    /// Fragments or parts of the whole set (0 before the first part).
    pub total: usize,
}

impl Progress {
    /// Whether every part is there.
    pub fn complete(&self) -> bool {
        self.total > 0 && self.received >= self.total
    }
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "parts {}/{}", self.received, self.total)
    }
}

/// Parts in, payload out.
#[derive(Default)]
pub struct Assembler {
    state: Option<State>,
}

enum State {
    Ur(UrAssembly),
    Bbqr(BbqrAssembly),
}

/// The format a part's text is in, from its first characters.
pub fn format_of(part: &str) -> Result<Format, QrError> {
    if part.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("ur:")) {
        Ok(Format::Ur)
    } else if part.starts_with("B$") {
        Ok(Format::Bbqr)
    } else {
        Err(QrError::NotAPart {
            start: part.chars().take(12).collect(),
        })
    }
}

impl Assembler {
    /// An empty assembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one part.
    pub fn push(&mut self, part: &str) -> Result<Progress, QrError> {
        let format = format_of(part)?;
        match (&mut self.state, format) {
            (None, Format::Ur) => self.state = Some(State::Ur(UrAssembly::start(part)?)),
            (None, Format::Bbqr) => self.state = Some(State::Bbqr(BbqrAssembly::start(part)?)),
            (Some(State::Ur(a)), Format::Ur) => a.push(part)?,
            (Some(State::Bbqr(a)), Format::Bbqr) => a.push(part)?,
            (Some(state), other) => {
                let first = match state {
                    State::Ur(_) => Format::Ur,
                    State::Bbqr(_) => Format::Bbqr,
                };
                return Err(QrError::OtherAnimation(Mismatch::Formats { first, other }));
            }
        }
        Ok(self.progress())
    }

    /// How far the assembly is.
    pub fn progress(&self) -> Progress {
        let (format, (received, total)) = match &self.state {
            None => (None, (0, 0)),
            Some(State::Ur(a)) => (Some(Format::Ur), a.progress()),
            Some(State::Bbqr(a)) => (Some(Format::Bbqr), a.progress()),
        };
        Progress {
            format,
            received,
            total,
        }
    }

    /// The payload; [`QrError::Incomplete`] while parts are missing.
    pub fn finish(self) -> Result<Payload, QrError> {
        match self.state {
            None => Err(QrError::NoFrames),
            Some(State::Ur(a)) => a.finish(),
            Some(State::Bbqr(a)) => a.finish(),
        }
    }
}

//! Exit codes shared by the three programs, and the trait by which each typed
//! library error names its own. This module sits at the bottom of the crate
//! and imports nothing from it; the walk over an error chain that finds the
//! code lives at the edge, in [`crate::cli`].
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | refused by policy, or an audit finding |
//! | 2 | bad input or usage |
//! | 3 | node or I/O failure |

/// What kind of failure an error is, which decides the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything went as asked.
    Success = 0,
    /// The vault policy (or an audit) refused the operation.
    Refused = 1,
    /// The input was malformed or the command was misused.
    BadInput = 2,
    /// The node, the file system or another outside resource failed.
    NodeOrIo = 3,
}

impl ExitCode {
    /// The numeric process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Implemented by every typed error of the library so that the binaries can
/// pick the documented exit code without knowing the error's details.
pub trait Classify {
    /// The exit code this error maps to.
    fn exit_code(&self) -> ExitCode;
}

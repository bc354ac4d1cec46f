//! Exit codes shared by the three programs, and the mapping from typed library
//! errors to them.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | refused by policy, or an audit finding |
//! | 2 | bad input or usage |
//! | 3 | node or I/O failure |

use std::error::Error as StdError;

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

/// Walks an error chain and returns the exit code of the first library error
/// found; errors the library does not know (argument parsing, say) are bad input.
pub fn exit_code_for(err: &(dyn StdError + 'static)) -> ExitCode {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(code) = classify(e) {
            return code;
        }
        current = e.source();
    }
    ExitCode::BadInput
}

fn classify(e: &(dyn StdError + 'static)) -> Option<ExitCode> {
    macro_rules! try_types {
        ($($t:ty),* $(,)?) => {
            $(if let Some(x) = e.downcast_ref::<$t>() { return Some(x.exit_code()); })*
        };
    }
    try_types!(
        crate::policy::PolicyError,
        crate::transport::FileError,
        crate::audit::LogError,
        crate::audit::RatioFinding,
        crate::audit::MissingHeadsFinding,
        crate::signer::KeyStoreError,
        crate::signer::RegistryError,
        crate::psbt::PsbtError,
        crate::psbt::approvals::ApprovalError,
        crate::psbt::fields::OtherPolicy,
        crate::signer::signing::SigningError,
        crate::signer::signing::session::SessionError,
    );
    #[cfg(feature = "online")]
    try_types!(
        crate::coordinator::CoordinatorError,
        crate::audit::ScanError
    );
    if e.downcast_ref::<std::io::Error>().is_some() {
        return Some(ExitCode::NodeOrIo);
    }
    None
}

//! What the three programs share at their edge: turning a result into a
//! message on stderr and the documented exit code.

use crate::error::{exit_code_for, ExitCode};

/// Runs a program body, prints any error with its causes on stderr, and
/// returns the exit code the error maps to.
pub fn main_with<E>(body: impl FnOnce() -> Result<(), E>) -> std::process::ExitCode
where
    E: std::ops::Deref<Target = dyn std::error::Error + Send + Sync + 'static>,
{
    match body() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            let err: &(dyn std::error::Error + 'static) = &*err;
            eprintln!("error: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            let code = exit_code_for(err);
            debug_assert_ne!(code, ExitCode::Success);
            std::process::ExitCode::from(code.code())
        }
    }
}

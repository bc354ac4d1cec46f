//! What the three programs share at their edge: turning a result into a
//! message on stderr and the documented exit code.
//!
//! This is the only module that knows every error type of the library (to
//! find the exit code in an `anyhow` chain); nothing in the library imports
//! it, so knowing them all makes no cycle.

use std::error::Error as StdError;

use crate::error::{Classify, ExitCode};

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
        crate::transport::PrivateFileError,
        crate::audit::LogError,
        crate::audit::RatioFinding,
        crate::audit::MissingHeadsFinding,
        crate::audit::UnproposedSignaturesFinding,
        crate::audit::UngovernedChangeFinding,
        crate::policy::update::UpdateError,
        crate::audit::reconcile::ReconcileError,
        crate::audit::reconcile::ReconcileFinding,
        crate::audit::daily_report::ReportFindings,
        crate::audit::reserves::ReservesError,
        crate::audit::reserves::LiabilitiesError,
        crate::audit::reserves::ProofFailure,
        crate::audit::reserves::ShortfallFinding,
        crate::signer::KeyStoreError,
        crate::signer::RegistryError,
        crate::psbt::PsbtError,
        crate::psbt::compact::CompactError,
        crate::psbt::approvals::ApprovalError,
        crate::psbt::fields::OtherPolicy,
        crate::psbt::proof::BadProofMessage,
        crate::psbt::proof::ProofError,
        crate::psbt::proof::ProofNotProven,
        crate::signer::signing::SigningError,
        crate::signer::signing::session::SessionError,
        crate::signer::registration::RegistrationError,
        crate::signer::selftest::SelfTestFailed,
        crate::policy::DevicesAloneError,
        crate::transport::qr::QrError,
    );
    #[cfg(feature = "online")]
    try_types!(
        crate::coordinator::CoordinatorError,
        crate::ui::auditor::GatherError,
        crate::ui::auditor::AuditFinding,
        crate::audit::ScanError
    );
    if e.downcast_ref::<std::io::Error>().is_some() {
        return Some(ExitCode::NodeOrIo);
    }
    None
}

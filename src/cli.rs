//! What the three programs share at their edge: turning a result into a
//! message on stderr and the documented exit code.
//!
//! This is the only module that knows every error type of the library (to
//! find the exit code in an `anyhow` chain); nothing in the library imports
//! it, so knowing them all makes no cycle.

use std::error::Error as StdError;

use crate::error::{Classify, ExitCode};

/// Runs a program body, prints any error with its causes on stderr, and
/// returns the exit code the error maps to. A reader that goes away (`cmd |
/// head`) ends the program quietly, with the code a shell gives a program
/// ended by SIGPIPE (141), as it ends `cat`.
pub fn main_with<E>(body: impl FnOnce() -> Result<(), E>) -> std::process::ExitCode
where
    E: std::ops::Deref<Target = dyn std::error::Error + Send + Sync + 'static>,
{
    quiet_on_broken_pipe();
    if let Some(warning) = password_argument_warning(std::env::args()) {
        eprintln!("{warning}");
    }
    match body() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            let err: &(dyn std::error::Error + 'static) = &*err;
            let code = exit_code_for(err);
            debug_assert_ne!(code, ExitCode::Success);
            eprintln!("{}", error_report(err, code, json_requested()));
            std::process::ExitCode::from(code.code())
        }
    }
}

/// Parses the command line like `T::parse()`, except that with `--json` a
/// usage error is reported as JSON too (exit code 2).
pub fn parse<T: clap::Parser>() -> T {
    #[cfg(feature = "shell-docs")]
    shell_docs::generate_if_asked::<T>();
    match T::try_parse() {
        Ok(parsed) => parsed,
        Err(e) if e.use_stderr() && json_requested() => {
            let text = e.to_string();
            let message = text.trim().trim_start_matches("error: ");
            eprintln!(
                "{}",
                serde_json::json!({"error": message, "causes": [], "exit_code": ExitCode::BadInput.code()})
            );
            std::process::exit(ExitCode::BadInput.code().into())
        }
        Err(e) => e.exit(),
    }
}

/// Shell completions and man pages, written by the programs themselves so
/// that they always match their options: with `CUSTODIA_SHELL_DOCS` set to
/// `bash`, `zsh`, `fish` or `man`, a program built with the `shell-docs`
/// feature prints that and exits (`scripts/shell-docs` writes them all).
#[cfg(feature = "shell-docs")]
mod shell_docs {
    pub fn generate_if_asked<T: clap::CommandFactory>() {
        let Ok(what) = std::env::var("CUSTODIA_SHELL_DOCS") else {
            return;
        };
        let mut command = T::command();
        let name = command.get_name().to_owned();
        let mut out = std::io::stdout();
        let shell = match what.as_str() {
            "bash" => clap_complete::Shell::Bash,
            "zsh" => clap_complete::Shell::Zsh,
            "fish" => clap_complete::Shell::Fish,
            "man" => {
                let code = match clap_mangen::Man::new(command).render(&mut out) {
                    Ok(()) => 0,
                    Err(e) => {
                        eprintln!("error: cannot write the man page: {e}");
                        3
                    }
                };
                std::process::exit(code);
            }
            other => {
                eprintln!("error: CUSTODIA_SHELL_DOCS={other}: use bash, zsh, fish or man");
                std::process::exit(2);
            }
        };
        clap_complete::generate(shell, &mut command, name, &mut out);
        std::process::exit(0);
    }
}

/// What an error looks like on stderr: `error: …` with its causes for
/// people, or, when the command was given `--json`, one JSON object
/// `{"error": …, "causes": […], "exit_code": N}` so that scripts parse one
/// format.
pub fn error_report(err: &(dyn StdError + 'static), code: ExitCode, json: bool) -> String {
    let mut causes = Vec::new();
    let mut source = err.source();
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    if json {
        return serde_json::json!({
            "error": err.to_string(),
            "causes": causes,
            "exit_code": code.code(),
        })
        .to_string();
    }
    let mut text = format!("error: {err}");
    for cause in causes {
        text.push_str(&format!("\n  caused by: {cause}"));
    }
    text
}

/// Whether the command line asks for JSON output, and so JSON errors.
fn json_requested() -> bool {
    std::env::args().any(|a| a == "--json")
}

/// A password given on the command line is visible to every user of the
/// machine (`ps`, `/proc/PID/cmdline`) for as long as the program runs.
pub fn password_argument_warning(args: impl IntoIterator<Item = String>) -> Option<String> {
    args.into_iter()
        .any(|a| a == "--rpc-pass" || a.starts_with("--rpc-pass="))
        .then(|| {
            "warning: --rpc-pass on the command line is visible to other users of this machine (ps, /proc/PID/cmdline); use --rpc-cookie with the node's cookie file, or set CUSTODIA_RPC_PASS in the environment".to_owned()
        })
}

/// `print!` panics when standard output is a closed pipe; that panic, and
/// only that one, ends the program quietly instead, with 141 rather than 0:
/// a command that prints before it acts (a registration shows the policy
/// first) has then not acted, and `set -o pipefail` scripts must see that.
fn quiet_on_broken_pipe() {
    /// 128 + SIGPIPE, what a shell reports for a program SIGPIPE ended.
    const BROKEN_PIPE_EXIT: i32 = 141;
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(BROKEN_PIPE_EXIT);
        }
        default(info);
    }));
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
        crate::policy::AddKeyError,
        crate::policy::cosigner::CosignerError,
        crate::policy::export::ExportError,
        crate::policy::export::bsms::BsmsError,
        crate::policy::export::coldcard::ColdcardError,
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

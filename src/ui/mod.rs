//! The edge the programs share with the person at the keyboard: asking
//! (confirmations, passphrases, seed words) and printing. The rest of the
//! library returns reports and never prints or prompts; nothing in it
//! imports this module.

pub mod auditor;
#[cfg(feature = "online")]
pub mod coordinator;
pub mod policy;
#[cfg(feature = "online")]
pub mod progress;
pub mod qr;
pub mod signer;
pub mod terminal;

/// Prints a report as pretty JSON on stdout, for `--json`.
pub fn print_json(value: &impl serde::Serialize) -> serde_json::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints a report as JSON (`--json`) or as its text for people.
pub fn output(json: bool, report: &impl serde::Serialize, text: &str) -> serde_json::Result<()> {
    match json {
        true => print_json(report),
        false => {
            print!("{text}");
            Ok(())
        }
    }
}

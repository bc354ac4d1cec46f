//! Asking the operator to confirm, for commands that change what the signer
//! will do (register, sign, approve) unless `--yes` is given.

use std::io::{BufRead, Write};

/// Prints `question` on stderr and reads a line from stdin; only `y` or
/// `yes` (any case) confirms. End of input counts as no.
pub fn confirm(question: &str) -> std::io::Result<bool> {
    let mut err = std::io::stderr();
    write!(err, "{question} [y/N] ")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

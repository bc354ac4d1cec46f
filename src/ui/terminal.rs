//! Asking the person at the keyboard: confirmations, passphrases without
//! echo, and the words of a seed being restored. Questions go to stderr so
//! that stdout stays for results.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::signer::signing::session::Prompts;
use crate::signer::{KeyStoreError, Mnemonic, Passphrase};

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

/// Asks on the terminal without echo; for a `new` passphrase, twice, and it
/// must then be long enough (see [`Passphrase::check_new`]).
pub fn read_passphrase(new: bool) -> Result<Passphrase, KeyStoreError> {
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map(Passphrase::new)
            .map_err(KeyStoreError::NoTerminal)
    };
    if !new {
        return ask("Passphrase: ");
    }
    let first = ask("New passphrase: ")?;
    first.check_new()?;
    let second = ask("Repeat the passphrase: ")?;
    if !first.same_as(&second) {
        return Err(KeyStoreError::BadPassphrase(
            "the two passphrases differ; nothing was written, run the command again".into(),
        ));
    }
    Ok(first)
}

/// From `file` if given (for scripts), else from the terminal. A `new`
/// passphrase is checked for length either way.
pub fn passphrase(file: Option<&Path>, new: bool) -> Result<Passphrase, KeyStoreError> {
    // Said before any passphrase is taken, from a file or typed.
    if let Some(warning) = crate::signer::online::warning(&crate::signer::online::interfaces_up()) {
        eprintln!("{warning}");
    }
    let pass = match file {
        Some(path) => Passphrase::from_file(path)?,
        None => read_passphrase(new)?,
    };
    if new {
        pass.check_new()?;
    }
    Ok(pass)
}

/// Asks for the words of a seed on stderr and reads one line from stdin.
pub fn read_mnemonic() -> Result<Mnemonic, KeyStoreError> {
    eprint!("Enter the words, separated by spaces, on one line: ");
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(KeyStoreError::NoTerminal)?;
    Mnemonic::parse(&line)
}

/// How a signing or approving session shows its review and asks the person:
/// the summary on stderr (stdout stays for results), questions on the
/// terminal, the passphrase from the terminal or a passphrase file.
pub struct Terminal {
    passphrase_file: Option<PathBuf>,
}

impl Terminal {
    /// A terminal that reads the passphrase from `passphrase_file` if given.
    pub fn new(passphrase_file: Option<PathBuf>) -> Self {
        Terminal { passphrase_file }
    }

    /// The passphrase of the key (`new = false`) or for a new key.
    pub fn passphrase_for(&self, new: bool) -> Result<Passphrase, KeyStoreError> {
        passphrase(self.passphrase_file.as_deref(), new)
    }
}

impl Prompts for Terminal {
    fn show(&mut self, summary: &str) {
        eprint!("{summary}");
    }
    fn inform(&mut self, text: &str) {
        print!("{text}");
    }
    fn confirm(&mut self, question: &str) -> std::io::Result<bool> {
        confirm(question)
    }
    fn passphrase(&mut self) -> Result<Passphrase, KeyStoreError> {
        self.passphrase_for(false)
    }
}

//! `passphrase change`: every secret of the data directory (the seed and
//! each approval key) encrypted again under a new passphrase.
//!
//! All files are opened with the old passphrase before any is written, so a
//! wrong passphrase changes nothing. Each file is then replaced atomically;
//! if the machine stops between two files, running the command again with
//! the same two passphrases finishes the job (a file already under the new
//! passphrase is recognized and left as it is).

use std::path::PathBuf;

use serde::Serialize;

use super::{
    open_with_passphrase, read_private, seal_with_passphrase, KeyStoreError, Passphrase, SignerHome,
};
use crate::audit::{Event, PassphraseChanged};
use crate::transport::write_atomically;

/// What `passphrase change` did.
#[derive(Debug, Clone, Serialize)]
pub struct PassphraseChange {
    /// The files now under the new passphrase.
    pub files: Vec<PathBuf>,
}

impl PassphraseChange {
    /// Lines for people.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{} secret file(s) are now encrypted under the new passphrase:\n",
            self.files.len()
        );
        for f in &self.files {
            s.push_str(&format!("  {}\n", f.display()));
        }
        s
    }
}

impl SignerHome {
    /// The secret files: `seed.age` and every `approvers/<id>.age`.
    fn secret_files(&self) -> Result<Vec<PathBuf>, KeyStoreError> {
        let mut files = Vec::new();
        if self.seed_path().exists() {
            files.push(self.seed_path());
        }
        for info in self.approvers()? {
            files.push(self.approvers_dir().join(format!("{}.age", info.id)));
        }
        Ok(files)
    }

    /// Encrypts every secret of the data directory again, from `old` to
    /// `new`, and logs it. Refused, with nothing changed, when `old` opens
    /// a file neither it nor `new` opens, or when there is no secret.
    pub fn change_passphrase(
        &self,
        old: &Passphrase,
        new: &Passphrase,
    ) -> Result<PassphraseChange, KeyStoreError> {
        new.check_new()?;
        if old.same_as(new) {
            return Err(KeyStoreError::BadPassphrase(
                "the new passphrase is the old one; nothing was changed".into(),
            ));
        }
        let files = self.secret_files()?;
        if files.is_empty() {
            return Err(KeyStoreError::NoSeed(self.dir().to_owned()));
        }
        let mut sealed = Vec::with_capacity(files.len());
        for path in &files {
            let cipher = read_private(path)?
                .ok_or_else(|| KeyStoreError::corrupt(path, "the file is missing"))?;
            match open_with_passphrase(&cipher, old, path) {
                Ok(plain) => sealed.push((path, Some(seal_with_passphrase(&plain, new)?))),
                // Changed by an interrupted run: already under `new`.
                Err(KeyStoreError::WrongPassphrase(_))
                    if open_with_passphrase(&cipher, new, path).is_ok() =>
                {
                    sealed.push((path, None))
                }
                Err(e) => return Err(e),
            }
        }
        for (path, cipher) in &sealed {
            if let Some(cipher) = cipher {
                write_atomically(path, cipher)?;
            }
        }
        self.log()
            .append(&Event::PassphraseChange(PassphraseChanged {
                files: files.len(),
            }))?;
        Ok(PassphraseChange { files })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::ApproverId;
    use crate::signer::keystore::{Mnemonic, SeedOrigin};
    use crate::signer::ApproverSecret;

    const SATO_SECRET: &str = "c37131369f9da9d25a097fac8a5b631959816235c478192216d4726aa6388ec0";

    /// A home with a fresh seed and sato's approval key under `old`.
    fn home_under(tmp: &tempfile::TempDir, old: &Passphrase) -> (SignerHome, ApproverId) {
        let home = SignerHome::open(Some(tmp.path().join("signer"))).unwrap();
        home.create_seed(
            &Mnemonic::generate(),
            bitcoin::Network::Regtest,
            old,
            SeedOrigin::Init,
        )
        .unwrap();
        let sato: ApproverId = "sato".parse().unwrap();
        home.approver_import(&sato, ApproverSecret::from_hex(SATO_SECRET).unwrap(), old)
            .unwrap();
        (home, sato)
    }

    #[test]
    fn every_secret_moves_to_the_new_passphrase_and_a_wrong_one_changes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let (old, new) = (
            Passphrase::new("the old passphrase"),
            Passphrase::new("a brand new passphrase"),
        );
        let (home, sato) = home_under(&tmp, &old);
        let log_len = || home.log().verify().unwrap().entries.len();
        let before = log_len();

        let wrong = Passphrase::new("not the passphrase");
        assert!(matches!(
            home.change_passphrase(&wrong, &new),
            Err(KeyStoreError::WrongPassphrase(_))
        ));
        assert!(matches!(
            home.change_passphrase(&old, &Passphrase::new("short")),
            Err(KeyStoreError::BadPassphrase(_))
        ));
        assert!(home.unlock_seed(&old).is_ok());
        assert_eq!(log_len(), before);

        let done = home.change_passphrase(&old, &new).unwrap();
        assert_eq!(done.files.len(), 2);
        assert!(home.unlock_seed(&new).is_ok());
        assert!(home.unlock_approver(&sato, &new).is_ok());
        assert!(matches!(
            home.unlock_seed(&old),
            Err(KeyStoreError::WrongPassphrase(_))
        ));
        assert_eq!(log_len(), before + 1);
    }

    #[test]
    fn an_interrupted_change_finishes_when_run_again() {
        let tmp = tempfile::tempdir().unwrap();
        let (old, new) = (
            Passphrase::new("the old passphrase"),
            Passphrase::new("a brand new passphrase"),
        );
        let (home, sato) = home_under(&tmp, &old);
        // As if the machine stopped after the seed was written.
        let words = home.unlock_words(&old).unwrap();
        let cipher = seal_with_passphrase(words.phrase().as_bytes(), &new).unwrap();
        write_atomically(&home.seed_path(), &cipher).unwrap();

        home.change_passphrase(&old, &new).unwrap();
        assert!(home.unlock_seed(&new).is_ok());
        assert!(home.unlock_approver(&sato, &new).is_ok());
    }
}

//! The signer's data directory: an encrypted seed, public key metadata,
//! approval keys, registered policies and the signer's own log.
//!
//! ```text
//! <data dir>/            0700; --data-dir, else $CUSTODIA_SIGNER_DIR, else ~/.custodia-signer
//!   seed.age             the BIP-39 words, age-encrypted under the passphrase (scrypt)
//!   key.json             public: master fingerprint, network, creation time
//!   approvers/<id>.age   an approval key's secret, age-encrypted under a passphrase
//!   approvers/<id>.json  public: approver id, x-only public key, creation time
//!   policies/<id>.toml   registered policies, canonical TOML, named by policy id
//!   policies/retired/    policies replaced by a newer one of the same vault
//!   log.jsonl            the signer's hash-chained log
//! ```
//!
//! Every file is 0600 and refused when group or others may access it.

mod backup;
pub(crate) mod crypt;
mod error;
mod passphrase_change;
mod secret;
mod seed;

use std::path::{Path, PathBuf};

pub use backup::{read_backup, BackupContents, BackupReport, RestoredBackup};
pub use crypt::BackupRecipient;
pub use error::{KeyStoreError, MnemonicProblem};
pub use passphrase_change::PassphraseChange;
pub use secret::{MasterKey, Mnemonic, Passphrase, UnlockedSeed, MIN_PASSPHRASE_CHARS};
pub use seed::{AccountXpubs, KeyInfo, SeedOrigin};

pub(crate) use crate::transport::private::{
    check_private_file, ensure_private_dir, read_private, read_private_secret,
};
pub(crate) use crypt::{open_with_passphrase, seal_with_passphrase};

use crate::audit::EventLog;

/// The environment variable naming the data directory when `--data-dir` is not given.
pub const DATA_DIR_ENV: &str = "CUSTODIA_SIGNER_DIR";
/// The data directory's name under `$HOME` when neither is given.
pub const DEFAULT_DIR_NAME: &str = ".custodia-signer";

/// An opened signer data directory.
#[derive(Debug, Clone)]
pub struct SignerHome {
    dir: PathBuf,
}

impl SignerHome {
    /// Where the data directory is: `data_dir` if given, else
    /// `$CUSTODIA_SIGNER_DIR`, else `$HOME/.custodia-signer`.
    pub fn resolve_dir(data_dir: Option<PathBuf>) -> Result<PathBuf, KeyStoreError> {
        if let Some(dir) = data_dir {
            return Ok(dir);
        }
        if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(dir));
        }
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|home| PathBuf::from(home).join(DEFAULT_DIR_NAME))
            .ok_or(KeyStoreError::NoDataDir)
    }

    /// Opens the data directory (see [`SignerHome::resolve_dir`]), creating it
    /// 0700 if it does not exist; refuses one that group or others can access.
    pub fn open(data_dir: Option<PathBuf>) -> Result<SignerHome, KeyStoreError> {
        let dir = Self::resolve_dir(data_dir)?;
        ensure_private_dir(&dir)?;
        Ok(SignerHome { dir })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `seed.age`.
    pub fn seed_path(&self) -> PathBuf {
        self.dir.join("seed.age")
    }

    /// `key.json`.
    pub fn key_info_path(&self) -> PathBuf {
        self.dir.join("key.json")
    }

    /// `approvers/`.
    pub fn approvers_dir(&self) -> PathBuf {
        self.dir.join("approvers")
    }

    /// `policies/`.
    pub fn policies_dir(&self) -> PathBuf {
        self.dir.join("policies")
    }

    /// `log.jsonl`.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("log.jsonl")
    }

    /// The signer's hash-chained log: every key operation, registration and
    /// signature is appended here.
    pub fn log(&self) -> EventLog {
        EventLog::new(self.log_path())
    }

    /// A subdirectory, created 0700 if missing.
    pub(crate) fn subdir(&self, path: PathBuf) -> Result<PathBuf, KeyStoreError> {
        ensure_private_dir(&path)?;
        Ok(path)
    }
}

//! Why a key store operation failed, and which exit code that is.

use std::path::PathBuf;

use bitcoin::bip32::Fingerprint;

use crate::audit::LogError;
use crate::error::{Classify, ExitCode};
use crate::policy::ApproverId;
use crate::transport::{FileError, PrivateFileError};

/// A key store operation failed. Nothing on disk was changed unless the
/// variant says otherwise.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStoreError {
    /// A file or directory of the data dir can be read or written by others.
    #[error("{path} has permissions {mode:04o}: group or others may read or change it; run `chmod {fix:o} {path}` and consider whether the secret was exposed")]
    LoosePermissions {
        /// The file or directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// The mode to set (600 for files, 700 for directories).
        fix: u32,
    },
    /// Neither `--data-dir`, `CUSTODIA_SIGNER_DIR` nor `HOME` is set.
    #[error(
        "no data directory: pass --data-dir or set CUSTODIA_SIGNER_DIR (HOME is not set either)"
    )]
    NoDataDir,
    /// A path that must be a directory is something else.
    #[error("{0} is not a directory; pass another --data-dir")]
    NotADirectory(PathBuf),
    /// The file system failed.
    #[error("cannot access {path}: {source}; check that the path exists and that you own it")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Writing a file failed.
    #[error(transparent)]
    File(#[from] FileError),
    /// The signer's log failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The passphrase does not open the file.
    #[error("wrong passphrase for {0} (or the file was altered); nothing was changed — try again")]
    WrongPassphrase(PathBuf),
    /// The file is not what it should be: truncated, altered or of another kind.
    #[error(
        "{path} is damaged: {reason}; restore it from your backup (custodia-signer restore-backup)"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// There is no seed yet.
    #[error("no seed in {0}; create one with `custodia-signer init` or `custodia-signer restore`")]
    NoSeed(PathBuf),
    /// There is a seed already.
    #[error("{0} already exists; this data dir holds a seed already and custodia-signer never overwrites one (use another --data-dir)")]
    SeedExists(PathBuf),
    /// The words are not a valid BIP-39 mnemonic.
    #[error("not a valid BIP-39 mnemonic: {0}; check the words against your written copy")]
    BadMnemonic(MnemonicProblem),
    /// A new passphrase is too weak, empty, or was typed differently twice.
    #[error("{0}")]
    BadPassphrase(String),
    /// There is no terminal to ask for a passphrase or confirmation.
    #[error("no terminal to ask on ({0}); use --passphrase-file FILE (first line is the passphrase) for scripted use")]
    NoTerminal(std::io::Error),
    /// The key found is not the key this data dir was made for.
    #[error("the seed has master fingerprint {found}, but {path} records {expected}: it is a different key; use the words or backup of the key this data dir was set up with, or another --data-dir")]
    FingerprintMismatch {
        /// key.json.
        path: PathBuf,
        /// Recorded fingerprint.
        expected: Fingerprint,
        /// Fingerprint of the key found.
        found: Fingerprint,
    },
    /// No approval key with that id is stored here.
    #[error(
        "no approval key `{id}` in {dir}; create it with `custodia-signer approver init --id {id}`"
    )]
    NoApprover {
        /// The approver id.
        id: ApproverId,
        /// The approvers directory.
        dir: PathBuf,
    },
    /// An approval key with that id exists.
    #[error("approval key `{0}` already exists; custodia-signer never overwrites a key (choose another id)")]
    ApproverExists(ApproverId),
    /// An approval key secret is malformed.
    #[error("bad approval key secret: {0}; expected 64 hex characters (a BIP-340 secret key)")]
    BadSecret(String),
    /// An age recipient or identity is malformed.
    #[error("{0}")]
    BadAgeKey(String),
    /// age could not encrypt (out of memory, say); nothing was written.
    #[error("encryption failed: {0}; nothing was written, free some memory and try again")]
    Encrypt(String),
    /// A restore into a data dir without `key.json` needs to be told the network.
    #[error("this data dir has no key.json to take the network from; pass --network (bitcoin, testnet, signet or regtest)")]
    NeedNetwork,
}

/// What is wrong with words given as a BIP-39 mnemonic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MnemonicProblem {
    /// Not 12, 15, 18, 21 or 24 words.
    #[error("{0} words; a mnemonic has 12, 15, 18, 21 or 24")]
    WordCount(usize),
    /// A word (numbered from 1) is not in the word list.
    #[error("word {0} is not in the BIP-39 English word list")]
    UnknownWord(usize),
    /// The words do not add up.
    #[error("the checksum does not match (a word is wrong or out of order)")]
    Checksum,
    /// The file of words is not text.
    #[error("{} is not text", .0.display())]
    NotText(PathBuf),
    /// Anything else the BIP-39 library refuses.
    #[error("{0}")]
    Other(bip39::Error),
}

impl KeyStoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        KeyStoreError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        KeyStoreError::Corrupt {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl From<PrivateFileError> for KeyStoreError {
    fn from(e: PrivateFileError) -> Self {
        match e {
            PrivateFileError::LoosePermissions { path, mode, fix } => {
                KeyStoreError::LoosePermissions { path, mode, fix }
            }
            PrivateFileError::NotADirectory(path) => KeyStoreError::NotADirectory(path),
            PrivateFileError::Io { path, source } => KeyStoreError::Io { path, source },
        }
    }
}

impl Classify for KeyStoreError {
    fn exit_code(&self) -> ExitCode {
        match self {
            KeyStoreError::Io { .. } | KeyStoreError::Encrypt(_) => ExitCode::NodeOrIo,
            KeyStoreError::File(e) => e.exit_code(),
            KeyStoreError::Log(e) => e.exit_code(),
            _ => ExitCode::BadInput,
        }
    }
}

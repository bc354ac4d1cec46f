//! age encryption of secrets: under a passphrase (scrypt) at rest, and to
//! x25519 recipients for backups.

use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use zeroize::Zeroizing;

use super::{KeyStoreError, Passphrase};
use crate::transport::private::read_private_secret;

/// scrypt work factor `N = 2^18` (256 MiB, about a second): fixed rather than
/// timed, so a key written on a fast machine still opens on a slow laptop.
const SCRYPT_LOG_N: u8 = 18;
/// The most work a file may ask for when opened (`2^20`, 1 GiB).
const SCRYPT_MAX_LOG_N: u8 = 20;

/// An age x25519 recipient (`age1...`) a backup is encrypted to.
#[derive(Debug, Clone)]
pub struct BackupRecipient(age::x25519::Recipient);

impl FromStr for BackupRecipient {
    type Err = KeyStoreError;
    fn from_str(s: &str) -> Result<Self, KeyStoreError> {
        age::x25519::Recipient::from_str(s.trim())
            .map(BackupRecipient)
            .map_err(|e| {
                KeyStoreError::BadAgeKey(format!(
                    "`{s}` is not an age x25519 recipient ({e}); it starts with `age1` (see `age-keygen -y`)"
                ))
            })
    }
}

impl std::fmt::Display for BackupRecipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Encrypts under a passphrase.
pub(crate) fn seal_with_passphrase(
    plain: &[u8],
    pass: &Passphrase,
) -> Result<Vec<u8>, KeyStoreError> {
    seal_with_passphrase_at(plain, pass, SCRYPT_LOG_N)
}

/// Encrypts under a passphrase at scrypt work factor `2^log_n`: the key
/// store always uses [`SCRYPT_LOG_N`]; the self-test a small one.
pub(crate) fn seal_with_passphrase_at(
    plain: &[u8],
    pass: &Passphrase,
    log_n: u8,
) -> Result<Vec<u8>, KeyStoreError> {
    let mut recipient = age::scrypt::Recipient::new(pass.to_age());
    recipient.set_work_factor(log_n);
    age::encrypt(&recipient, plain).map_err(|e| KeyStoreError::Encrypt(e.to_string()))
}

/// Decrypts a passphrase-encrypted file's bytes; `path` names it in errors.
pub(crate) fn open_with_passphrase(
    cipher: &[u8],
    pass: &Passphrase,
    path: &Path,
) -> Result<Zeroizing<Vec<u8>>, KeyStoreError> {
    let decryptor = age::Decryptor::new_buffered(cipher)
        .map_err(|e| KeyStoreError::corrupt(path, format!("not a readable age file ({e})")))?;
    if !decryptor.is_scrypt() {
        return Err(KeyStoreError::corrupt(
            path,
            "it is not encrypted under a passphrase",
        ));
    }
    let mut identity = age::scrypt::Identity::new(pass.to_age());
    identity.set_max_work_factor(SCRYPT_MAX_LOG_N);
    let reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed
            | age::DecryptError::NoMatchingKeys
            | age::DecryptError::KeyDecryptionFailed => {
                KeyStoreError::WrongPassphrase(path.to_owned())
            }
            other => KeyStoreError::corrupt(path, other.to_string()),
        })?;
    read_all(reader, path)
}

/// Encrypts to one or more x25519 recipients.
pub(crate) fn seal_to_recipients(
    plain: &[u8],
    recipients: &[BackupRecipient],
) -> Result<Vec<u8>, KeyStoreError> {
    if recipients.is_empty() {
        return Err(KeyStoreError::BadAgeKey(
            "a backup needs at least one --recipient age1...".into(),
        ));
    }
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| &r.0 as &dyn age::Recipient))
            .map_err(|e| KeyStoreError::BadAgeKey(e.to_string()))?;
    let mut out = Vec::new();
    let io = |e: std::io::Error| KeyStoreError::Encrypt(e.to_string());
    let mut writer = encryptor.wrap_output(&mut out).map_err(io)?;
    std::io::Write::write_all(&mut writer, plain).map_err(io)?;
    writer.finish().map_err(io)?;
    Ok(out)
}

/// Decrypts a backup with the identities (`AGE-SECRET-KEY-1...`) in `identity_file`.
pub(crate) fn open_with_identity_file(
    cipher: &[u8],
    backup: &Path,
    identity_file: &Path,
) -> Result<Zeroizing<Vec<u8>>, KeyStoreError> {
    let text = read_private_secret(identity_file)?;
    let bad_identity = |reason: String| {
        KeyStoreError::BadAgeKey(format!(
            "{} is not an age identity file ({reason}); it holds a line `AGE-SECRET-KEY-1...` as written by age-keygen",
            identity_file.display()
        ))
    };
    let identities = age::IdentityFile::from_buffer(&text[..])
        .map_err(|e| bad_identity(e.to_string()))?
        .into_identities()
        .map_err(|e| bad_identity(e.to_string()))?;
    if identities.is_empty() {
        return Err(bad_identity("no identity in it".into()));
    }
    let decryptor = age::Decryptor::new_buffered(cipher)
        .map_err(|e| KeyStoreError::corrupt(backup, format!("not a readable age file ({e})")))?;
    let reader = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => KeyStoreError::BadAgeKey(format!(
                "{} was not encrypted to any identity in {}; use the identity of one of the backup's recipients",
                backup.display(),
                identity_file.display()
            )),
            other => KeyStoreError::corrupt(backup, other.to_string()),
        })?;
    read_all(reader, backup)
}

fn read_all(mut reader: impl Read, path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyStoreError> {
    let mut plain = Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut plain)
        .map_err(|e| KeyStoreError::corrupt(path, format!("truncated or altered content ({e})")))?;
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrase_round_trip_and_wrong_passphrase() {
        let path = Path::new("seed.age");
        let sealed = seal_with_passphrase(b"words", &Passphrase::new("correct horse")).unwrap();
        let plain = open_with_passphrase(&sealed, &Passphrase::new("correct horse"), path).unwrap();
        assert_eq!(&plain[..], b"words");
        assert!(matches!(
            open_with_passphrase(&sealed, &Passphrase::new("wrong horse"), path),
            Err(KeyStoreError::WrongPassphrase(_))
        ));
        for cut in [10, sealed.len() / 2, sealed.len() - 1] {
            assert!(matches!(
                open_with_passphrase(&sealed[..cut], &Passphrase::new("correct horse"), path),
                Err(KeyStoreError::Corrupt { .. })
            ));
        }
    }
}

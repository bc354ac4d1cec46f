//! Backups: the seed words and every approval key of the data directory,
//! age-encrypted to one or more x25519 recipients, and restoring them.
//!
//! The plaintext is lines of text: the BIP-39 words first (when the signer
//! has a seed), then one `approver <id> <secret hex>` line per approval key.
//! `age -d` opens a backup too, and its first line is the plain phrase.

use std::path::Path;

use bitcoin::bip32::Fingerprint;
use bitcoin::Network;
use serde::Serialize;
use zeroize::Zeroizing;

use super::crypt::{open_with_identity_file, seal_to_recipients};
use super::{BackupRecipient, KeyInfo, KeyStoreError, Mnemonic, Passphrase, SignerHome};
use crate::audit::{BackupWritten, Event};
use crate::policy::ApproverId;
use crate::signer::ApproverSecret;
use crate::transport::write_new_atomically;

/// What a backup holds, opened.
pub struct BackupContents {
    words: Option<Mnemonic>,
    approvers: Vec<(ApproverId, ApproverSecret)>,
}

impl BackupContents {
    fn to_plain(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::new());
        if let Some(words) = &self.words {
            s.push_str(&words.phrase());
            s.push('\n');
        }
        for (id, secret) in &self.approvers {
            s.push_str(&format!("approver {id} {}\n", &*secret.to_hex()));
        }
        s
    }

    fn parse(text: &str, path: &Path) -> Result<BackupContents, KeyStoreError> {
        let mut words = None;
        let mut approvers: Vec<(ApproverId, ApproverSecret)> = Vec::new();
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let bad = |why: String| KeyStoreError::corrupt(path, format!("line {}: {why}", n + 1));
            match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["approver", id, hex] => {
                    let id: ApproverId = id.parse().map_err(|e| bad(format!("{e}")))?;
                    if approvers.iter().any(|(a, _)| *a == id) {
                        return Err(bad(format!("approver `{id}` twice")));
                    }
                    let secret = ApproverSecret::from_hex(hex).map_err(|e| bad(e.to_string()))?;
                    approvers.push((id, secret));
                }
                _ if n == 0 => words = Some(Mnemonic::parse(line).map_err(|e| bad(e.to_string()))?),
                _ => return Err(bad("neither the seed words nor an approval key".into())),
            }
        }
        if words.is_none() && approvers.is_empty() {
            return Err(KeyStoreError::corrupt(path, "the backup holds no secret"));
        }
        Ok(BackupContents { words, approvers })
    }

    /// The seed's words, if the backup holds a seed.
    pub fn words(&self) -> Option<&Mnemonic> {
        self.words.as_ref()
    }

    /// The approval keys it holds, by id.
    pub fn approver_ids(&self) -> Vec<ApproverId> {
        self.approvers.iter().map(|(id, _)| id.clone()).collect()
    }
}

/// What `backup` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    /// The seed's master fingerprint, if the signer has a seed.
    pub fingerprint: Option<Fingerprint>,
    /// The approval keys in the backup.
    pub approvers: Vec<ApproverId>,
}

/// What `restore-backup` restored.
#[derive(Debug, Clone)]
pub struct RestoredBackup {
    /// The new `key.json` and whether a previous one confirmed the
    /// fingerprint, if the backup held a seed.
    pub seed: Option<(KeyInfo, bool)>,
    /// The approval keys stored again (those already here with the same
    /// public key are left as they are).
    pub approvers: Vec<ApproverId>,
}

impl RestoredBackup {
    /// Lines for people.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        if let Some((info, checked)) = &self.seed {
            let check = match checked {
                true => "matches key.json",
                false => "compare it with the fingerprint in your policy",
            };
            s.push_str(&format!(
                "seed restored from backup: master fingerprint {} ({check})\n",
                info.master_fingerprint()
            ));
        }
        for id in &self.approvers {
            s.push_str(&format!("approval key `{id}` restored from backup\n"));
        }
        s
    }
}

impl SignerHome {
    /// Writes an age backup of the seed words and every approval key,
    /// encrypted to `recipients`, to the new file `out` (never replaced).
    /// Every secret is opened with `passphrase` first. Logs the event.
    pub fn backup(
        &self,
        passphrase: &Passphrase,
        recipients: &[BackupRecipient],
        out: &Path,
    ) -> Result<BackupReport, KeyStoreError> {
        let words = match self.has_seed() {
            true => Some(self.unlock_words(passphrase)?),
            false => None,
        };
        let mut approvers = Vec::new();
        for info in self.approvers()? {
            let key = self.unlock_approver(&info.id, passphrase)?;
            approvers.push((info.id.clone(), ApproverSecret::of(&key)));
        }
        let contents = BackupContents { words, approvers };
        if contents.words.is_none() && contents.approvers.is_empty() {
            return Err(KeyStoreError::NoSeed(self.dir().to_owned()));
        }
        let sealed = seal_to_recipients(contents.to_plain().as_bytes(), recipients)?;
        write_new_atomically(out, &sealed)?;
        let fingerprint = contents.words.as_ref().map(|w| w.to_seed().fingerprint());
        self.log().append(&Event::Backup(BackupWritten {
            fingerprint,
            recipients: recipients.iter().map(|r| r.to_string()).collect(),
            file: out.display().to_string(),
            approvers: contents.approver_ids(),
        }))?;
        Ok(BackupReport {
            fingerprint,
            approvers: contents.approver_ids(),
        })
    }

    /// Stores what a backup holds under a new passphrase (asked for only
    /// once everything was checked): the seed, if the backup has one (the
    /// data dir must have none; the network is `network` or `key.json`'s),
    /// and every approval key not stored here yet. An approval key stored
    /// here under the same id with another public key refuses the whole
    /// restore, before anything is written.
    pub fn restore_backup(
        &self,
        contents: &BackupContents,
        network: Option<Network>,
        passphrase: impl FnOnce() -> Result<Passphrase, KeyStoreError>,
    ) -> Result<RestoredBackup, KeyStoreError> {
        let old = self.key_info()?;
        let network = match &contents.words {
            Some(_) => {
                self.ensure_no_seed()?;
                Some(
                    network
                        .or(old.as_ref().map(|i| i.network()))
                        .ok_or(KeyStoreError::NeedNetwork)?,
                )
            }
            None => None,
        };
        let mut missing = Vec::new();
        for (id, secret) in &contents.approvers {
            match self.approver_info(id)? {
                Some(info) if info.pubkey == secret.x_only_public_key() => {}
                Some(_) => return Err(KeyStoreError::ApproverExists(id.clone())),
                None => missing.push((id, secret)),
            }
        }
        let pass = passphrase()?;
        let seed = match (&contents.words, network) {
            (Some(words), Some(network)) => Some((
                self.create_seed(words, network, &pass, super::SeedOrigin::RestoreBackup)?,
                old.is_some(),
            )),
            _ => None,
        };
        let mut approvers = Vec::new();
        for (id, secret) in missing {
            self.approver_import(id, secret.clone_secret(), &pass)?;
            approvers.push(id.clone());
        }
        Ok(RestoredBackup { seed, approvers })
    }
}

/// Opens an age backup with the identity file of one of its recipients.
pub fn read_backup(backup: &Path, identity_file: &Path) -> Result<BackupContents, KeyStoreError> {
    let cipher = std::fs::read(backup).map_err(|e| KeyStoreError::io(backup, e))?;
    let plain = open_with_identity_file(&cipher, backup, identity_file)?;
    let text = std::str::from_utf8(&plain)
        .map_err(|_| KeyStoreError::corrupt(backup, "the content is not text"))?;
    BackupContents::parse(text, backup)
}

#[cfg(test)]
mod tests;

//! The seed: creating it (fresh or restored) and unlocking it.

use bitcoin::bip32::Fingerprint;
use bitcoin::Network;
use serde::{Deserialize, Serialize};

use super::{
    open_with_passphrase, read_private, seal_with_passphrase, KeyStoreError, Mnemonic, Passphrase,
    SignerHome, UnlockedSeed,
};
use crate::audit::utc_timestamp;
use crate::audit::{Event, SeedCreated};
use crate::transport::{write_atomically, write_new_atomically};

/// How the seed of a data dir came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeedOrigin {
    /// `custodia-signer init`: fresh words from the CSPRNG.
    Init,
    /// `custodia-signer restore`: words typed in.
    Restore,
    /// `custodia-signer restore-backup`: an age backup.
    RestoreBackup,
}

impl SeedOrigin {
    /// The log event kind.
    pub fn as_str(self) -> &'static str {
        match self {
            SeedOrigin::Init => "init",
            SeedOrigin::Restore => "restore",
            SeedOrigin::RestoreBackup => "restore-backup",
        }
    }
}

/// `key.json`: what anyone may know about the seed, readable without the
/// passphrase (so `register` can tell which key of a policy this signer holds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyInfo {
    /// Format version, 1.
    pub format: u32,
    /// Master key fingerprint, 8 hex characters.
    pub fingerprint: String,
    /// The network the key is used on: bitcoin, testnet, testnet4, signet or regtest.
    pub network: String,
    /// `main` or `test`: whether keys are written xpub or tpub.
    pub network_kind: String,
    /// How the seed was made.
    pub origin: SeedOrigin,
    /// Unix time of creation.
    pub created_unix: u64,
    /// The same, for people.
    pub created: String,
}

impl KeyInfo {
    fn new(fingerprint: Fingerprint, network: Network, origin: SeedOrigin) -> Self {
        let now = crate::audit::now_unix();
        KeyInfo {
            format: 1,
            fingerprint: fingerprint.to_string(),
            network: network.to_string(),
            network_kind: match bitcoin::NetworkKind::from(network) {
                bitcoin::NetworkKind::Main => "main".into(),
                bitcoin::NetworkKind::Test => "test".into(),
            },
            origin,
            created_unix: now,
            created: utc_timestamp(now),
        }
    }

    /// `master fingerprint F (network)`, for people.
    pub fn to_line(&self) -> String {
        format!("master fingerprint {} ({})", self.fingerprint, self.network)
    }

    /// The master fingerprint.
    pub fn master_fingerprint(&self) -> Fingerprint {
        self.fingerprint
            .parse()
            .expect("checked when key.json was read")
    }

    /// The network.
    pub fn network(&self) -> Network {
        crate::policy::parse_network(&self.network).expect("checked when key.json was read")
    }
}

/// The BIP-48 account xpubs of a seed, for the policy's `[[keys]]`.
#[derive(Debug, Clone, Serialize)]
pub struct AccountXpubs {
    /// Master fingerprint.
    pub fingerprint: String,
    /// Network the xpubs are written for.
    pub network: String,
    /// BIP-48 account number.
    pub account: u32,
    /// `[fp/48'/coin'/account'/2']xpub` for `script = "wsh"`.
    pub wsh: String,
    /// `[fp/48'/coin'/account'/3']xpub` for `script = "tr"`.
    pub tr: String,
}

impl AccountXpubs {
    /// Derives both account xpubs.
    pub fn new(seed: &UnlockedSeed, network: Network, account: u32) -> Self {
        use crate::policy::ScriptKind;
        AccountXpubs {
            fingerprint: seed.fingerprint().to_string(),
            network: network.to_string(),
            account,
            wsh: seed
                .account_xpub(network, ScriptKind::Wsh, account)
                .to_string(),
            tr: seed
                .account_xpub(network, ScriptKind::Tr, account)
                .to_string(),
        }
    }

    /// Lines for people, ready to paste as `xpub = "..."`.
    pub fn to_text(&self) -> String {
        format!(
            "master fingerprint {} ({}), account {}\nwsh  {}\ntr   {}\n",
            self.fingerprint, self.network, self.account, self.wsh, self.tr
        )
    }
}

impl SignerHome {
    /// Whether `seed.age` exists.
    pub fn has_seed(&self) -> bool {
        self.seed_path().exists()
    }

    /// Refuses early (before asking for words or a passphrase) when the data
    /// dir holds a seed already.
    pub fn ensure_no_seed(&self) -> Result<(), KeyStoreError> {
        match self.has_seed() {
            true => Err(KeyStoreError::SeedExists(self.seed_path())),
            false => Ok(()),
        }
    }

    /// `key.json`, if there is one.
    pub fn key_info(&self) -> Result<Option<KeyInfo>, KeyStoreError> {
        let path = self.key_info_path();
        let Some(bytes) = read_private(&path)? else {
            return Ok(None);
        };
        let info: KeyInfo = serde_json::from_slice(&bytes)
            .map_err(|e| KeyStoreError::corrupt(&path, e.to_string()))?;
        if info.fingerprint.parse::<Fingerprint>().is_err()
            || crate::policy::parse_network(&info.network).is_err()
        {
            return Err(KeyStoreError::corrupt(
                &path,
                "bad fingerprint or network field",
            ));
        }
        Ok(Some(info))
    }

    /// Encrypts `words` under `passphrase` into `seed.age`, writes `key.json`
    /// and logs the event. Refuses if a seed exists; if `key.json` exists
    /// (the seed was lost and is being restored) the words must give its
    /// fingerprint.
    pub fn create_seed(
        &self,
        words: &Mnemonic,
        network: Network,
        passphrase: &Passphrase,
        origin: SeedOrigin,
    ) -> Result<KeyInfo, KeyStoreError> {
        let seed_path = self.seed_path();
        if seed_path.exists() {
            return Err(KeyStoreError::SeedExists(seed_path));
        }
        let fingerprint = words.to_seed().fingerprint();
        if let Some(old) = self.key_info()? {
            if old.master_fingerprint() != fingerprint {
                return Err(KeyStoreError::FingerprintMismatch {
                    path: self.key_info_path(),
                    expected: old.master_fingerprint(),
                    found: fingerprint,
                });
            }
        }
        let sealed = seal_with_passphrase(words.phrase().as_bytes(), passphrase)?;
        write_new_atomically(&seed_path, &sealed).map_err(|e| match e {
            crate::transport::FileError::Exists(p) => KeyStoreError::SeedExists(p),
            other => other.into(),
        })?;
        let info = KeyInfo::new(fingerprint, network, origin);
        let text = serde_json::to_string_pretty(&info).expect("key info serializes") + "\n";
        write_atomically(&self.key_info_path(), text.as_bytes())?;
        let created = SeedCreated {
            fingerprint,
            network: info.network.clone(),
            words: words.word_count(),
        };
        self.log().append(&match origin {
            SeedOrigin::Init => Event::Init(created),
            SeedOrigin::Restore => Event::Restore(created),
            SeedOrigin::RestoreBackup => Event::RestoreBackup(created),
        })?;
        Ok(info)
    }

    /// Decrypts the seed. Checks it against `key.json`'s fingerprint, so a
    /// swapped `seed.age` is caught before anything is signed with it.
    pub fn unlock_seed(&self, passphrase: &Passphrase) -> Result<UnlockedSeed, KeyStoreError> {
        Ok(self.unlock_words(passphrase)?.to_seed())
    }

    pub(crate) fn unlock_words(&self, passphrase: &Passphrase) -> Result<Mnemonic, KeyStoreError> {
        let path = self.seed_path();
        let cipher = read_private(&path)?.ok_or_else(|| KeyStoreError::NoSeed(self.dir.clone()))?;
        let plain = open_with_passphrase(&cipher, passphrase, &path)?;
        let text = std::str::from_utf8(&plain)
            .map_err(|_| KeyStoreError::corrupt(&path, "the content is not text"))?;
        let words =
            Mnemonic::parse(text).map_err(|e| KeyStoreError::corrupt(&path, e.to_string()))?;
        if let Some(info) = self.key_info()? {
            let found = words.to_seed().fingerprint();
            if info.master_fingerprint() != found {
                return Err(KeyStoreError::FingerprintMismatch {
                    path: self.key_info_path(),
                    expected: info.master_fingerprint(),
                    found,
                });
            }
        }
        Ok(words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_json_must_match_a_restored_seed() {
        let tmp = tempfile::tempdir().unwrap();
        let home = SignerHome::open(Some(tmp.path().join("signer"))).unwrap();
        let pass = Passphrase::new("a long passphrase");
        home.create_seed(
            &Mnemonic::generate(),
            Network::Regtest,
            &pass,
            SeedOrigin::Init,
        )
        .unwrap();
        std::fs::remove_file(home.seed_path()).unwrap();
        let err = home
            .create_seed(
                &Mnemonic::generate(),
                Network::Regtest,
                &pass,
                SeedOrigin::Restore,
            )
            .unwrap_err();
        assert!(matches!(err, KeyStoreError::FingerprintMismatch { .. }));
        assert!(!home.has_seed());
    }
}

//! Secret values: passphrases, mnemonics and unlocked seeds. None of them
//! implements `Debug` or `Display` (so a secret cannot end up in a log line or
//! an error message by accident), and each is zeroized when dropped.

use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;

use bitcoin::bip32::{Fingerprint, Xpriv};
use bitcoin::secp256k1::{rand::RngCore, Secp256k1};
use bitcoin::Network;
use zeroize::Zeroizing;

use super::{KeyStoreError, MnemonicProblem};
use crate::policy::{OriginXpub, ScriptKind};
use crate::signer::account::account_xpub;
use crate::transport::private::{check_private_file, read_private_secret};

/// Shortest passphrase accepted for a new key.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// A passphrase that encrypts a seed or an approval key at rest.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Wraps a passphrase held by the caller (tests, other front ends).
    pub fn new(text: impl Into<String>) -> Self {
        Passphrase(Zeroizing::new(text.into()))
    }

    /// The first line of a file (without its line ending), for scripted use.
    /// The file must not be readable by group or others.
    pub fn from_file(path: &Path) -> Result<Self, KeyStoreError> {
        check_private_file(path)?;
        let file = std::fs::File::open(path).map_err(|e| KeyStoreError::io(path, e))?;
        let mut line = Zeroizing::new(String::new());
        std::io::BufReader::new(file)
            .read_line(&mut line)
            .map_err(|e| KeyStoreError::io(path, e))?;
        let text = line.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            return Err(KeyStoreError::BadPassphrase(format!(
                "the first line of {} is empty; write the passphrase on it",
                path.display()
            )));
        }
        Ok(Passphrase::new(text))
    }

    /// Whether two passphrases are the same text (a new one typed twice).
    pub fn same_as(&self, other: &Passphrase) -> bool {
        *self.0 == *other.0
    }

    /// Refuses a passphrase too short to protect a new key.
    pub fn check_new(&self) -> Result<(), KeyStoreError> {
        if self.0.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(KeyStoreError::BadPassphrase(format!(
                "a new passphrase needs at least {MIN_PASSPHRASE_CHARS} characters; choose a longer one"
            )));
        }
        Ok(())
    }

    /// The passphrase as age wants it.
    pub(crate) fn to_age(&self) -> age::secrecy::SecretString {
        age::secrecy::SecretString::from(self.0.as_str().to_owned())
    }
}

/// A BIP-39 mnemonic (English). Shown to a person once, at `init`.
pub struct Mnemonic(bip39::Mnemonic);

impl Mnemonic {
    /// 24 fresh words from 256 bits of the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut entropy = Zeroizing::new([0u8; 32]);
        bitcoin::secp256k1::rand::rngs::OsRng.fill_bytes(&mut *entropy);
        Mnemonic(
            bip39::Mnemonic::from_entropy(&*entropy).expect("32 bytes is a valid entropy length"),
        )
    }

    /// Parses words typed or read from a file; case and spacing do not matter.
    /// The checksum is verified.
    pub fn parse(text: &str) -> Result<Self, KeyStoreError> {
        // Built in place in a zeroized buffer: no stray copies of the words.
        let mut normalized = Zeroizing::new(String::with_capacity(3 * text.len()));
        for word in text.split_whitespace() {
            if !normalized.is_empty() {
                normalized.push(' ');
            }
            normalized.extend(word.chars().flat_map(char::to_lowercase));
        }
        bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &normalized)
            .map(Mnemonic)
            .map_err(|e| {
                KeyStoreError::BadMnemonic(match e {
                    bip39::Error::BadWordCount(n) => MnemonicProblem::WordCount(n),
                    bip39::Error::UnknownWord(i) => MnemonicProblem::UnknownWord(i + 1),
                    bip39::Error::InvalidChecksum => MnemonicProblem::Checksum,
                    other => MnemonicProblem::Other(other),
                })
            })
    }

    /// Reads words from a file only its owner can read (first lines, any spacing).
    pub fn from_file(path: &Path) -> Result<Self, KeyStoreError> {
        let bytes = read_private_secret(path)?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| KeyStoreError::BadMnemonic(MnemonicProblem::NotText(path.to_owned())))?;
        Mnemonic::parse(text)
    }

    /// The words numbered, four to a line, for writing down.
    pub fn numbered(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::new());
        for (i, word) in self.0.words().enumerate() {
            // Written straight into the zeroized buffer: no stray copies.
            let _ = write!(*out, "{:>2}. {:<10}", i + 1, word);
            out.push_str(if i % 4 == 3 { "\n" } else { " " });
        }
        out
    }

    /// The words separated by single spaces, for showing once or encrypting.
    pub fn phrase(&self) -> Zeroizing<String> {
        Zeroizing::new(self.0.words().collect::<Vec<_>>().join(" "))
    }

    /// Number of words.
    pub fn word_count(&self) -> usize {
        self.0.word_count()
    }

    /// Derives the seed (no BIP-39 passphrase: the age passphrase protects
    /// the words at rest, and a forgotten 25th word would lose the key).
    pub fn to_seed(&self) -> UnlockedSeed {
        UnlockedSeed::new(Zeroizing::new(self.0.to_seed("")))
    }
}

/// A decrypted seed. The only way to wallet private keys.
pub struct UnlockedSeed {
    seed: Zeroizing<[u8; 64]>,
    fingerprint: Fingerprint,
}

impl UnlockedSeed {
    fn new(seed: Zeroizing<[u8; 64]>) -> Self {
        let secp = Secp256k1::signing_only();
        let master = Xpriv::new_master(Network::Bitcoin, &*seed).expect("64-byte seeds are valid");
        let fingerprint = master.fingerprint(&secp);
        UnlockedSeed { seed, fingerprint }
    }

    /// The BIP-32 master private key for `network` (the network only changes
    /// how keys are written, `xprv` or `tprv`), erased when dropped.
    pub fn master_key(&self, network: Network) -> MasterKey {
        MasterKey::from(Xpriv::new_master(network, &*self.seed).expect("64-byte seeds are valid"))
    }

    /// The master key fingerprint, as in key origins `[fingerprint/...]`.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The BIP-48 account xpub with origin for `script`, to paste into a policy.
    pub fn account_xpub(&self, network: Network, script: ScriptKind, account: u32) -> OriginXpub {
        let secp = Secp256k1::signing_only();
        account_xpub(&secp, self.master_key(network).xpriv(), script, account)
    }
}

/// A BIP-32 master private key that is erased when dropped, and has neither
/// `Debug` nor `Copy`: it cannot end up in a log line or in a stray copy.
pub struct MasterKey(Xpriv);

impl From<Xpriv> for MasterKey {
    fn from(xpriv: Xpriv) -> Self {
        MasterKey(xpriv)
    }
}

impl MasterKey {
    /// The master key fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        self.0.fingerprint(&Secp256k1::signing_only())
    }

    /// The key itself, for derivation inside the library only.
    pub(crate) fn xpriv(&self) -> &Xpriv {
        &self.0
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.0.private_key.non_secure_erase();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLD_1: &str = "elder badge can gallery exile milk peanut entry traffic begin roast cloud shield thought desk keen mixed save gift pond twelve assist will response";

    #[test]
    fn test_key_gives_its_published_xpubs() {
        let m = Mnemonic::parse(&COLD_1.to_uppercase().replace(' ', "  ")).unwrap();
        let seed = m.to_seed();
        assert_eq!(seed.fingerprint().to_string(), "02a6288e");
        assert_eq!(
            seed.account_xpub(Network::Regtest, ScriptKind::Wsh, 0).to_string(),
            "[02a6288e/48'/1'/0'/2']tpubDEEhnxopBR7JNvgSNWwmE2zgePzVcNi7MunVdSftYT1piVv54SX6p8cjirb4dedaYcSxjpEtkKYmMx4mHQuJY4SY9NKeeEriiHSNM2FgFyq"
        );
    }

    #[test]
    fn bad_words_are_named() {
        let swapped = COLD_1.replacen("elder badge", "badge elder", 1);
        let e = Mnemonic::parse(&swapped).err().unwrap().to_string();
        assert!(e.contains("checksum"), "{e}");
        let e = Mnemonic::parse("elder badge").err().unwrap().to_string();
        assert!(e.contains("2 words"), "{e}");
        let e = Mnemonic::parse(&COLD_1.replace("milk", "milkk"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("word 6"), "{e}");
    }

    #[test]
    fn generated_mnemonics_have_24_words_and_differ() {
        let a = Mnemonic::generate();
        let b = Mnemonic::generate();
        assert_eq!(a.word_count(), 24);
        assert_ne!(*a.phrase(), *b.phrase());
        assert_eq!(*Mnemonic::parse(&a.phrase()).unwrap().phrase(), *a.phrase());
    }

    #[test]
    fn short_new_passphrases_are_refused() {
        assert!(Passphrase::new("short").check_new().is_err());
        assert!(Passphrase::new("long enough").check_new().is_ok());
    }
}

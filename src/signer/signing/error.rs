//! Why a reviewed PSBT could not be signed, and the exit code of each case.

use bitcoin::bip32::Fingerprint;

use crate::error::{Classify, ExitCode};
use crate::policy::{KeyId, Tier};

/// Why a reviewed PSBT could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// The signer's seed has no key in the wallet being spent.
    #[error("this signer ({}) holds no key of the {tier} wallet; give the PSBT to a {tier} key holder", seed_text(.fingerprint))]
    NoKeyOfWallet {
        /// The wallet spent.
        tier: Tier,
        /// The seed's fingerprint, if this signer has a seed.
        fingerprint: Option<Fingerprint>,
    },
    /// The seed's fingerprint matches a key whose xpub it does not derive.
    #[error("the seed matches key {0}'s fingerprint but derives another xpub; the policy or the seed is wrong, check `custodia-signer xpub`")]
    SeedMismatch(KeyId),
    /// The seed matches more than one key of the wallet: one key holder
    /// would give several of the signatures.
    #[error("this seed holds keys {} of the {tier} wallet; a key holder signs with one key per wallet, so the policy must give each key to a different seed", .keys.iter().map(KeyId::as_str).collect::<Vec<_>>().join(", "))]
    SeveralKeysOfWallet {
        /// The wallet spent.
        tier: Tier,
        /// The keys of that wallet this seed holds.
        keys: Vec<KeyId>,
    },
    /// The policy is for another network than the seed.
    #[error("the policy is for {policy}, but this signer's seed is for {seed}; a key signs for one network only")]
    OtherNetwork {
        /// The seed's network (key.json).
        seed: bitcoin::Network,
        /// The policy's network.
        policy: bitcoin::Network,
    },
    /// A signature hash could not be computed.
    #[error("cannot compute the signature hash of input {index}: {reason}")]
    Sighash {
        /// The input.
        index: usize,
        /// Why.
        reason: String,
    },
}

fn seed_text(fingerprint: &Option<Fingerprint>) -> String {
    fingerprint.map_or("no seed".to_owned(), |f| format!("seed fingerprint {f}"))
}

impl Classify for SigningError {
    fn exit_code(&self) -> ExitCode {
        match self {
            SigningError::SeedMismatch(_) | SigningError::Sighash { .. } => ExitCode::BadInput,
            SigningError::NoKeyOfWallet { .. }
            | SigningError::SeveralKeysOfWallet { .. }
            | SigningError::OtherNetwork { .. } => ExitCode::Refused,
        }
    }
}

//! Who holds what: wallet keys of the key holders and approval keys of the
//! approvers.

use std::fmt;
use std::str::FromStr;

use bitcoin::bip32::{DerivationPath, Fingerprint, Xpub};
use bitcoin::secp256k1::XOnlyPublicKey;
use miniscript::descriptor::{DescriptorPublicKey, DescriptorXKey, Wildcard};

use super::error::Problem;
use super::ids::{ApproverId, KeyId};

/// An account-level extended public key with the origin a signer needs to find
/// its own key: `[fingerprint/path]xpub`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OriginXpub {
    fingerprint: Fingerprint,
    path: DerivationPath,
    xpub: Xpub,
}

impl OriginXpub {
    /// An account key from its parts, as a device's export file states them.
    pub fn new(fingerprint: Fingerprint, path: DerivationPath, xpub: Xpub) -> OriginXpub {
        OriginXpub {
            fingerprint,
            path,
            xpub,
        }
    }

    /// Master key fingerprint of the key holder's seed.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// Derivation path from the master key to the account.
    pub fn path(&self) -> &DerivationPath {
        &self.path
    }

    /// The account xpub.
    pub fn xpub(&self) -> &Xpub {
        &self.xpub
    }

    /// The descriptor key `[origin]xpub/<a;b>/*`, for the two chains given.
    pub fn multipath_key(&self, chains: [u32; 2]) -> DescriptorPublicKey {
        let text = format!("{self}/<{};{}>/*", chains[0], chains[1]);
        DescriptorPublicKey::from_str(&text).expect("an origin xpub with a multipath suffix parses")
    }
}

impl FromStr for OriginXpub {
    type Err = Problem;

    fn from_str(s: &str) -> Result<Self, Problem> {
        let key =
            DescriptorPublicKey::from_str(s.trim()).map_err(|e| Problem::BadXpub(e.to_string()))?;
        let DescriptorPublicKey::XPub(DescriptorXKey {
            origin,
            xkey,
            derivation_path,
            wildcard,
        }) = key
        else {
            return Err(Problem::BadXpub(
                "a single key or multipath key, not an xpub".into(),
            ));
        };
        let (fingerprint, path) = origin.ok_or(Problem::MissingOrigin)?;
        if !derivation_path.is_empty() || wildcard != Wildcard::None {
            return Err(Problem::XpubWithSuffix);
        }
        Ok(OriginXpub {
            fingerprint,
            path,
            xpub: xkey,
        })
    }
}

impl fmt::Display for OriginXpub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}", self.fingerprint)?;
        for child in self.path.into_iter() {
            write!(f, "/{child}")?;
        }
        write!(f, "]{}", self.xpub)
    }
}

/// What signs with a key: custodia's signer, which reviews every PSBT
/// against the policy, or a hardware wallet that knows none of its rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeySigner {
    /// `custodia-signer`: enforces the policy at the key.
    #[default]
    Custodia,
    /// A signing device (Coldcard, Keystone, Jade, …): signs what its holder
    /// confirms on its screen, enforcing no allowlist, limit or approval.
    Device,
}

impl KeySigner {
    /// The word in the policy file.
    pub fn as_str(self) -> &'static str {
        match self {
            KeySigner::Custodia => "custodia",
            KeySigner::Device => "device",
        }
    }
}

impl std::fmt::Display for KeySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One key of one key holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultKey {
    pub(crate) id: KeyId,
    pub(crate) holder: String,
    pub(crate) location: String,
    pub(crate) xpub: OriginXpub,
    pub(crate) signer: KeySigner,
}

impl VaultKey {
    /// The key's id in the policy.
    pub fn id(&self) -> &KeyId {
        &self.id
    }
    /// Department of the key holder.
    pub fn holder(&self) -> &str {
        &self.holder
    }
    /// Where the key is kept.
    pub fn location(&self) -> &str {
        &self.location
    }
    /// The account xpub with origin.
    pub fn xpub(&self) -> &OriginXpub {
        &self.xpub
    }
    /// What signs with it.
    pub fn signer(&self) -> KeySigner {
        self.signer
    }
}

/// A person who approves movements for a department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approver {
    pub(crate) id: ApproverId,
    pub(crate) department: String,
    pub(crate) pubkey: XOnlyPublicKey,
}

impl Approver {
    /// The approver's id.
    pub fn id(&self) -> &ApproverId {
        &self.id
    }
    /// The approver's department.
    pub fn department(&self) -> &str {
        &self.department
    }
    /// The BIP-340 key approvals are checked against.
    pub fn pubkey(&self) -> &XOnlyPublicKey {
        &self.pubkey
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XPUB: &str = "[d34db33f/48'/1'/0'/2']tpubDFH9dgzveyD8zTbPUFuLrGmCydNvxehyNdUXKJAQN8x4aZ4j6UZqGfnqFrD4NqyaTVGKbvEW54tsvPTK2UoSbCC1PJY8iCNiwTL3RWZEheQ";

    #[test]
    fn ids_are_restricted() {
        assert!("cold-1".parse::<KeyId>().is_ok());
        assert!("".parse::<KeyId>().is_err());
        assert!("cold 1".parse::<KeyId>().is_err());
        assert!("é".parse::<ApproverId>().is_err());
    }

    #[test]
    fn origin_xpub_round_trips() {
        let k: OriginXpub = XPUB.parse().unwrap();
        assert_eq!(k.to_string(), XPUB);
        assert_eq!(k.fingerprint().to_string(), "d34db33f");
        let mp = k.multipath_key([0, 1]);
        assert!(mp.is_multipath());
    }

    #[test]
    fn origin_and_plain_account_key_are_required() {
        let bare = XPUB.split(']').nth(1).unwrap();
        assert_eq!(bare.parse::<OriginXpub>(), Err(Problem::MissingOrigin));
        assert_eq!(
            format!("{XPUB}/0/*").parse::<OriginXpub>(),
            Err(Problem::XpubWithSuffix)
        );
        assert!(matches!(
            "nonsense".parse::<OriginXpub>(),
            Err(Problem::BadXpub(_))
        ));
    }
}

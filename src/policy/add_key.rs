//! Adding a key holder's key to a policy file: a new `[[keys]]` entry and its
//! id in one wallet's key list, written into the file's own text so that its
//! comments and layout stay, then the whole result validated as a policy.
//! The quorum's threshold is left as it was: raising it is a decision, not a
//! side effect.

use super::{KeyId, KeySigner, OriginXpub, PolicyError, Tier, VaultPolicy};
use crate::error::{Classify, ExitCode};

/// Who holds the new key and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    /// The id the wallets will refer to.
    pub id: KeyId,
    /// Department of the key holder.
    pub holder: String,
    /// Where the key is kept.
    pub location: String,
    /// The wallet that gains the key.
    pub tier: Tier,
    /// What signs with it.
    pub signer: KeySigner,
}

/// Why a key cannot be added.
#[derive(Debug, thiserror::Error)]
pub enum AddKeyError {
    /// The policy file is not TOML with the expected tables.
    #[error("the policy file cannot be edited: {0}")]
    Shape(String),
    /// The policy with the new key is not a valid policy.
    #[error("with the new key the policy is not valid")]
    Invalid(#[source] PolicyError),
}

impl Classify for AddKeyError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::BadInput
    }
}

/// The policy text with `key` added, and the policy it now is.
pub fn add_key(
    policy_text: &str,
    key: &NewKey,
    xpub: &OriginXpub,
) -> Result<(String, VaultPolicy), AddKeyError> {
    let shape = |what: &str| AddKeyError::Shape(what.to_owned());
    let mut doc: toml_edit::DocumentMut = policy_text
        .parse()
        .map_err(|e: toml_edit::TomlError| AddKeyError::Shape(e.to_string()))?;
    let mut entry = toml_edit::Table::new();
    entry["id"] = toml_edit::value(key.id.to_string());
    entry["holder"] = toml_edit::value(key.holder.clone());
    entry["location"] = toml_edit::value(key.location.clone());
    entry["xpub"] = toml_edit::value(xpub.to_string());
    if key.signer != KeySigner::Custodia {
        entry["signer"] = toml_edit::value(key.signer.as_str());
    }
    doc.get_mut("keys")
        .and_then(toml_edit::Item::as_array_of_tables_mut)
        .ok_or_else(|| shape("no [[keys]] entries"))?
        .push(entry);
    doc.get_mut("wallets")
        .and_then(|w| w.get_mut(key.tier.as_str()))
        .and_then(|w| w.get_mut("keys"))
        .and_then(toml_edit::Item::as_array_mut)
        .ok_or_else(|| shape(&format!("no wallets.{}.keys list", key.tier)))?
        .push(key.id.to_string());
    let text = doc.to_string();
    let policy = VaultPolicy::from_toml(&text).map_err(AddKeyError::Invalid)?;
    Ok((text, policy))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Problem;

    const POLICY: &str = include_str!("../../policies/regtest-exchange.toml");
    /// The test key `recovery-1` (tests/data/test-keys.toml), not in this policy.
    const NEW: &str = "[2386fe4b/48'/1'/0'/2']tpubDEDPxGJSPShaSuVPkWv6SmB6ghm6oQvzYX3Y1wR4FqohTtKGcVt1vjFJEuoNxoeeaaMQK69dEhxa5sv8jViTDs1Wog3hKQJ5Tb6P5xVYUM4";

    fn new_key(id: &str, tier: Tier) -> NewKey {
        NewKey {
            id: id.parse().unwrap(),
            holder: "risk".into(),
            location: "nagoya".into(),
            tier,
            signer: KeySigner::Device,
        }
    }

    #[test]
    fn the_key_joins_one_wallet_and_comments_stay() {
        let xpub: OriginXpub = NEW.parse().unwrap();
        let (text, policy) = add_key(POLICY, &new_key("cold-6", Tier::Cold), &xpub).unwrap();
        assert!(text.starts_with("# Example vault"), "comments kept");
        let wallet = policy.wallet(Tier::Cold);
        assert_eq!(wallet.keys().len(), 6);
        assert_eq!(wallet.threshold(), 3, "threshold unchanged");
        let added = policy.key(&"cold-6".parse().unwrap()).unwrap();
        assert_eq!(added.xpub(), &xpub);
        assert_eq!(added.signer(), KeySigner::Device);
        assert_eq!(policy.wallet(Tier::Hot).keys().len(), 3);
    }

    #[test]
    fn a_key_already_in_the_policy_is_refused() {
        let existing = VaultPolicy::from_toml(POLICY).unwrap();
        let xpub = existing
            .key(&"hot-1".parse().unwrap())
            .unwrap()
            .xpub()
            .clone();
        let err = add_key(POLICY, &new_key("cold-6", Tier::Cold), &xpub).unwrap_err();
        let AddKeyError::Invalid(PolicyError::Invalid { problem, .. }) = err else {
            panic!("{err:?}")
        };
        assert!(matches!(problem, Problem::DuplicateXpub(..)), "{problem:?}");
        let fresh: OriginXpub = NEW.parse().unwrap();
        let err = add_key(POLICY, &new_key("hot-1", Tier::Cold), &fresh).unwrap_err();
        let AddKeyError::Invalid(PolicyError::Invalid { problem, .. }) = err else {
            panic!("{err:?}")
        };
        assert!(
            matches!(problem, Problem::DuplicateKeyId(..)),
            "{problem:?}"
        );
    }
}

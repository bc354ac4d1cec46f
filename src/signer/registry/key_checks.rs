//! What a signer checks of a policy's keys before registering it: a key
//! serves one vault, one tier and one network, and the keys the policy gives
//! this signer are the ones its seed derives.
//!
//! Without these, a second policy ("drill") that lists the real cold keys as
//! its hot wallet, or the same keys written for a test network, would let a
//! cold spend be signed as a hot payout without approvals.

use bitcoin::bip32::Xpub;
use bitcoin::secp256k1::Secp256k1;
use bitcoin::Network;

use super::{RegistrationStatus, RegistryError};
use crate::policy::{KeyId, Tier, VaultPolicy};
use crate::signer::keystore::{KeyStoreError, SignerHome, UnlockedSeed};

/// Where a key serves in a policy: the tiers whose wallet (main or
/// recovery path) uses it.
fn tiers_of(policy: &VaultPolicy, id: &KeyId) -> Vec<Tier> {
    Tier::ALL
        .into_iter()
        .filter(|t| policy.wallet(*t).uses_key(id))
        .collect()
}

/// The key of `policy` with the same public key and chain code as `xpub`.
fn same_key<'a>(policy: &'a VaultPolicy, xpub: &Xpub) -> Option<&'a KeyId> {
    policy.keys().values().find_map(|k| {
        let other = k.xpub().xpub();
        (other.public_key == xpub.public_key && other.chain_code == xpub.chain_code).then(|| k.id())
    })
}

impl SignerHome {
    /// Refuses a policy of another network than this signer's seed, and one
    /// that reuses a key registered for another vault or for another tier of
    /// this vault. Policies retired by a replacement are not registered any
    /// more and do not count.
    pub(super) fn check_keys_serve_one_vault(
        &self,
        policy: &VaultPolicy,
        status: &RegistrationStatus,
    ) -> Result<(), RegistryError> {
        if let Some(info) = self.key_info()? {
            if info.network() != policy.network() {
                return Err(RegistryError::OtherNetwork {
                    seed: info.network(),
                    policy: policy.network(),
                });
            }
        }
        let registered = self.registered_policies()?;
        for key in policy.keys().values() {
            for other in &registered {
                let Some(other_id) = same_key(other, key.xpub().xpub()) else {
                    continue;
                };
                if other.name() != policy.name() {
                    return Err(RegistryError::KeyOfAnotherVault {
                        key: key.id().clone(),
                        vault: other.name().to_owned(),
                        policy: other.id(),
                    });
                }
                let (was, is) = (tiers_of(other, other_id), tiers_of(policy, key.id()));
                if was != is && matches!(status, RegistrationStatus::Replaces { .. }) {
                    return Err(RegistryError::KeyChangedTier {
                        key: key.id().clone(),
                        was,
                        is,
                    });
                }
            }
        }
        Ok(())
    }

    /// Re-derives, from the seed, every key of `policy` whose origin names
    /// this seed's master fingerprint, and refuses the policy when the xpub
    /// it states is not the one the seed derives at that origin.
    pub fn check_own_keys(
        &self,
        policy: &VaultPolicy,
        seed: &UnlockedSeed,
    ) -> Result<(), RegistryError> {
        let secp = Secp256k1::signing_only();
        let network: Network = self
            .key_info()?
            .ok_or_else(|| KeyStoreError::NoSeed(self.dir().to_owned()))?
            .network();
        let master = seed.master_key(network);
        for key in policy.keys().values() {
            let origin = key.xpub();
            if origin.fingerprint() != seed.fingerprint() {
                continue;
            }
            let mut account = master
                .xpriv()
                .derive_priv(&secp, origin.path())
                .map_err(|_| RegistryError::NotThisSeedsKey {
                    key: key.id().clone(),
                    stated: Box::new(*origin.xpub()),
                    derived: None,
                })?;
            let derived = Xpub::from_priv(&secp, &account);
            account.private_key.non_secure_erase();
            if derived != *origin.xpub() {
                return Err(RegistryError::NotThisSeedsKey {
                    key: key.id().clone(),
                    stated: Box::new(*origin.xpub()),
                    derived: Some(Box::new(derived)),
                });
            }
        }
        Ok(())
    }
}

//! The signer's one key in the spent wallet: found in the policy by the
//! seed's fingerprint and checked against its xpub, derived to its two
//! chains once, then to each address key with one HMAC; and where that key
//! sits in the wallet's descriptors, so its public key at an address is read
//! from what the review derived rather than computed again.

use bitcoin::bip32::{ChildNumber, Xpriv, Xpub};
use bitcoin::secp256k1::{All, PublicKey, Secp256k1, SecretKey};
use miniscript::descriptor::DescriptorPublicKey;
use miniscript::{Descriptor, ForEachKey};

use super::SigningError;
use crate::policy::{Chain, KeyId, Tier, VaultPolicy};
use crate::psbt::VaultPath;
use crate::signer::keystore::MasterKey;

/// One of the signer's keys in the spent wallet, derived to its two chains
/// (private and public: an address key is then the chain key plus a tweak
/// that costs one HMAC, with no elliptic-curve multiplication).
pub(super) struct ChainKeys {
    pub(super) id: KeyId,
    /// The policy's xpub of the key (its account).
    account: Xpub,
    /// The chain steps the key signs with: 0 (main path) or 2 (recovery).
    first_chain: u32,
    chains: [(Xpriv, Xpub); 2],
}

impl Drop for ChainKeys {
    fn drop(&mut self) {
        for (xpriv, _) in &mut self.chains {
            xpriv.private_key.non_secure_erase();
        }
    }
}

impl ChainKeys {
    /// This key's public key at each vault path, read from the descriptor
    /// the review derived for it (`None` where it cannot be found): no
    /// elliptic-curve work. [`super::inputs`] checks one against the secret
    /// key before it relies on them.
    pub(super) fn public_keys_in<'a>(
        &self,
        policy: &VaultPolicy,
        tier: Tier,
        derived: impl Iterator<Item = &'a (VaultPath, Descriptor<bitcoin::PublicKey>)>,
    ) -> Vec<Option<PublicKey>> {
        let positions = [0, 1].map(|chain| {
            Chain::from_main_step(chain)
                .and_then(|c| self.position_in(policy.descriptor(tier).chain(c), chain))
        });
        derived
            .map(|(at, descriptor)| {
                let position = positions.get(at.chain as usize).copied().flatten()?;
                nth_key(descriptor, position).map(|k| k.inner)
            })
            .collect()
    }

    /// Where this key sits among the keys of `descriptor`, the wallet's
    /// descriptor for main chain `chain`, in the order miniscript visits
    /// keys: the order the descriptor derived at an index keeps.
    fn position_in(
        &self,
        descriptor: &Descriptor<DescriptorPublicKey>,
        chain: u32,
    ) -> Option<usize> {
        let step = [ChildNumber::Normal {
            index: self.first_chain + chain,
        }];
        let mut position = None;
        let mut n = 0;
        descriptor.for_each_key(|key| {
            if let DescriptorPublicKey::XPub(x) = key {
                if x.xkey == self.account && x.derivation_path.as_ref() == step {
                    position = Some(n);
                    return false;
                }
            }
            n += 1;
            true
        });
        position
    }

    /// The address key at (`chain`, `index`).
    pub(super) fn at(&self, chain: u32, index: u32) -> SecretKey {
        let (xpriv, xpub) = &self.chains[chain as usize];
        let (tweak, _) = xpub
            .ckd_pub_tweak(ChildNumber::Normal { index })
            .expect("unhardened derivation succeeds");
        xpriv
            .private_key
            .add_tweak(&tweak.into())
            .expect("a tweak that breaks BIP-32 has probability 2^-128")
    }
}

/// The one key of `tier`'s wallet this seed holds, derived to its chains.
pub(super) fn signer_key(
    policy: &VaultPolicy,
    tier: Tier,
    master: &MasterKey,
    secp: &Secp256k1<All>,
    recovery: bool,
) -> Result<ChainKeys, SigningError> {
    let master = master.xpriv();
    let fingerprint = master.fingerprint(secp);
    let mut out = Vec::new();
    // On the recovery path a key signs with its recovery chains 2 and 3
    // (ADR 3), and only keys of that path sign.
    let wallet = policy.wallet(tier);
    let (keys, first_chain) = match (recovery, wallet.recovery()) {
        (true, Some(path)) => (path.keys(), 2),
        _ => (wallet.keys(), 0),
    };
    for id in keys {
        let origin = policy.key(id).expect("wallet keys are policy keys").xpub();
        if origin.fingerprint() != fingerprint {
            continue;
        }
        let mut account = master
            .derive_priv(secp, origin.path())
            .map_err(|_| SigningError::SeedMismatch(id.clone()))?;
        if Xpub::from_priv(secp, &account) != *origin.xpub() {
            account.private_key.non_secure_erase();
            return Err(SigningError::SeedMismatch(id.clone()));
        }
        let chain = |c: u32| {
            let xpriv = account
                .derive_priv(secp, &[ChildNumber::Normal { index: c }])
                .expect("unhardened derivation succeeds");
            (xpriv, Xpub::from_priv(secp, &xpriv))
        };
        out.push(ChainKeys {
            id: id.clone(),
            account: *origin.xpub(),
            first_chain,
            chains: [chain(first_chain), chain(first_chain + 1)],
        });
        account.private_key.non_secure_erase();
    }
    if out.len() > 1 {
        return Err(SigningError::SeveralKeysOfWallet {
            tier,
            keys: out.iter().map(|k| k.id.clone()).collect(),
        });
    }
    out.pop().ok_or(SigningError::NoKeyOfWallet {
        tier,
        fingerprint: Some(fingerprint),
    })
}

/// The key `descriptor` visits `n`-th.
fn nth_key(descriptor: &Descriptor<bitcoin::PublicKey>, n: usize) -> Option<bitcoin::PublicKey> {
    let mut found = None;
    let mut i = 0;
    descriptor.for_each_key(|key| {
        if i == n {
            found = Some(*key);
            return false;
        }
        i += 1;
        true
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tweaked_chain_keys_equal_bip32_derivation() {
        let secp = Secp256k1::new();
        let master = Xpriv::new_master(bitcoin::Network::Regtest, &[5; 32]).unwrap();
        let account = master
            .derive_priv(&secp, &[ChildNumber::Hardened { index: 48 }])
            .unwrap();
        let chain = |c| {
            let x = account
                .derive_priv(&secp, &[ChildNumber::Normal { index: c }])
                .unwrap();
            (x, Xpub::from_priv(&secp, &x))
        };
        let keys = ChainKeys {
            id: "k".parse().unwrap(),
            account: Xpub::from_priv(&secp, &account),
            first_chain: 0,
            chains: [chain(0), chain(1)],
        };
        for (c, i) in [(0, 0), (1, 5), (0, 99_999)] {
            let path = [
                ChildNumber::Normal { index: c },
                ChildNumber::Normal { index: i },
            ];
            assert_eq!(
                keys.at(c, i),
                account.derive_priv(&secp, &path).unwrap().private_key
            );
        }
    }

    /// The signer takes each address key's public key from the descriptor
    /// the review derived, at the position of its key in the policy's
    /// descriptor: for every test key of every example wallet, main and
    /// recovery path, that is the secret key's own public key.
    #[test]
    fn public_keys_found_in_derived_descriptors_are_the_signers() {
        use crate::policy::example;
        use crate::signer::keystore::Mnemonic;

        let secp = Secp256k1::new();
        let keys: toml::Value =
            toml::from_str(include_str!("../../../tests/data/test-keys.toml")).unwrap();
        let masters: Vec<MasterKey> = keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                let words = Mnemonic::parse(k["mnemonic"].as_str().unwrap()).unwrap();
                words.to_seed().master_key(bitcoin::Network::Regtest)
            })
            .collect();
        let mut checked = 0;
        for name in ["regtest-exchange", "regtest-taproot", "regtest-recovery"] {
            let policy = example(name);
            for tier in Tier::ALL {
                let has_recovery = policy.wallet(tier).recovery().is_some();
                for recovery in [false, true].into_iter().filter(|r| !r || has_recovery) {
                    for master in &masters {
                        let Ok(key) = signer_key(&policy, tier, master, &secp, recovery) else {
                            continue;
                        };
                        for chain in [Chain::Receive, Chain::Change] {
                            let step = chain.index();
                            let position = key
                                .position_in(policy.descriptor(tier).chain(chain), step)
                                .unwrap_or_else(|| panic!("{name} {tier} {}", key.id));
                            for index in [0, 7, 9_999] {
                                let derived = policy
                                    .descriptor(tier)
                                    .at(chain, index)
                                    .derived_descriptor(&secp)
                                    .unwrap();
                                let own = key.at(step, index).public_key(&secp);
                                assert_eq!(
                                    nth_key(&derived, position).map(|k| k.inner),
                                    Some(own),
                                    "{name} {tier} recovery={recovery} {} {step}/{index}",
                                    key.id
                                );
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(checked >= 6 * 3 * 3 * 2, "{checked}");
    }
}

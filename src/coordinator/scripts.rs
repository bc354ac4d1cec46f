//! The scripts a tier's wallet watches, derived once, on every core, when
//! its database is created, and cached there for bdk.
//!
//! bdk derives a script for each index of its lookahead, one at a time and
//! with two public derivations per key (`chain`, then `index`), and keeps
//! deriving as payments reveal higher indexes: for the example vault that is
//! about 8,000 scripts and 30,000 elliptic-curve operations, most of a first
//! sync's time. Here each key's chain-level xpub is derived once, a script
//! then costs one derivation per key, and the indexes are spread over every
//! core. The cache covers every index bdk may ask for while the wallet stays
//! within the policy's range: up to `max_index` revealed, plus the lookahead.

use std::collections::{BTreeMap, HashMap};

use bdk_wallet::chain::{keychain_txout, DescriptorExt, DescriptorId};
use bitcoin::bip32::{ChildNumber, Xpub};
use bitcoin::secp256k1::{Secp256k1, VerifyOnly};
use bitcoin::{PublicKey, ScriptBuf};
use miniscript::descriptor::DescriptorPublicKey;
use miniscript::{translate_hash_clone, Descriptor, ForEachKey, TranslatePk, Translator};
use rayon::prelude::*;

/// The spk cache of `descriptors` for indexes `0..end`, as bdk stores it.
pub(crate) fn spk_cache(
    descriptors: &[&Descriptor<DescriptorPublicKey>],
    end: u32,
) -> keychain_txout::ChangeSet {
    let secp = Secp256k1::verification_only();
    let spk_cache: BTreeMap<DescriptorId, BTreeMap<u32, ScriptBuf>> = descriptors
        .iter()
        .map(|d| {
            let keys = chain_xpubs(d, &secp);
            let scripts = (0..end)
                .into_par_iter()
                .map(|index| (index, script_at(d, &keys, index, &secp)))
                .collect();
            (d.descriptor_id(), scripts)
        })
        .collect();
    keychain_txout::ChangeSet {
        last_revealed: BTreeMap::new(),
        spk_cache,
    }
}

/// Each xpub of a single-chain descriptor derived to the chain (all but the
/// wildcard step).
fn chain_xpubs(
    descriptor: &Descriptor<DescriptorPublicKey>,
    secp: &Secp256k1<VerifyOnly>,
) -> HashMap<DescriptorPublicKey, Xpub> {
    let mut keys = HashMap::new();
    descriptor.for_each_key(|pk| {
        if let DescriptorPublicKey::XPub(x) = pk {
            let chain = x
                .xkey
                .derive_pub(secp, &x.derivation_path)
                .expect("policy descriptors have no hardened steps after the account");
            keys.insert(pk.clone(), chain);
        }
        true
    });
    keys
}

fn script_at(
    descriptor: &Descriptor<DescriptorPublicKey>,
    keys: &HashMap<DescriptorPublicKey, Xpub>,
    index: u32,
    secp: &Secp256k1<VerifyOnly>,
) -> ScriptBuf {
    descriptor
        .translate_pk(&mut AtIndex { keys, index, secp })
        .unwrap_or_else(|_| panic!("policy descriptors derive at unhardened indexes"))
        .script_pubkey()
}

/// Translates a single-chain descriptor's keys to their public keys at one
/// index, from the chain-level xpubs.
struct AtIndex<'a> {
    keys: &'a HashMap<DescriptorPublicKey, Xpub>,
    index: u32,
    secp: &'a Secp256k1<VerifyOnly>,
}

impl Translator<DescriptorPublicKey, PublicKey, ()> for AtIndex<'_> {
    fn pk(&mut self, pk: &DescriptorPublicKey) -> Result<PublicKey, ()> {
        let Some(xpub) = self.keys.get(pk) else {
            // Not an xpub: a taproot internal key given as a plain key.
            return pk
                .clone()
                .at_derivation_index(0)
                .map_err(|_| ())?
                .derive_public_key(self.secp)
                .map_err(|_| ());
        };
        let child = xpub
            .ckd_pub(self.secp, ChildNumber::Normal { index: self.index })
            .map_err(|_| ())?;
        Ok(PublicKey::new(child.public_key))
    }
    translate_hash_clone!(DescriptorPublicKey, PublicKey, ());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Chain, Tier, VaultPolicy};

    #[test]
    fn cached_scripts_are_miniscripts_own_for_both_script_kinds() {
        for name in ["regtest-exchange", "regtest-taproot"] {
            let path = format!("{}/policies/{name}.toml", env!("CARGO_MANIFEST_DIR"));
            let policy = VaultPolicy::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
            for tier in Tier::ALL {
                let d = policy.descriptor(tier);
                let chains = [d.chain(Chain::Receive), d.chain(Chain::Change)];
                let cache = spk_cache(&chains, 12);
                for (chain, descriptor) in [Chain::Receive, Chain::Change].into_iter().zip(chains) {
                    let scripts = &cache.spk_cache[&descriptor.descriptor_id()];
                    assert_eq!(scripts.len(), 12);
                    for (index, script) in scripts {
                        assert_eq!(*script, d.script_pubkey(chain, *index), "{name} {tier}");
                    }
                }
            }
        }
    }
}

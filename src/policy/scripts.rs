//! Many output scripts of one chain of a wallet, fast: each key's
//! chain-level xpub is derived once, a script then costs one public
//! derivation per key (miniscript's own derivation costs two, with a new
//! secp256k1 context each, and `sortedmulti` derives again for every
//! comparison of its sort), and the indexes are spread over every core.
//! The coordinator's wallets and the auditor's scan derive every index up to
//! `max_index` of both chains of both tiers this way.

use std::collections::HashMap;
use std::ops::Range;

use bitcoin::bip32::{ChildNumber, Xpub};
use bitcoin::secp256k1::{Secp256k1, VerifyOnly};
use bitcoin::{PublicKey, ScriptBuf};
use miniscript::descriptor::DescriptorPublicKey;
use miniscript::{translate_hash_clone, Descriptor, ForEachKey, TranslatePk, Translator};
use rayon::prelude::*;

/// The scripts of a single-chain descriptor at `indexes`, in order.
pub(super) fn scripts(
    descriptor: &Descriptor<DescriptorPublicKey>,
    indexes: Range<u32>,
) -> Vec<ScriptBuf> {
    let secp = Secp256k1::verification_only();
    let keys = chain_xpubs(descriptor, &secp);
    indexes
        .into_par_iter()
        .map(|index| {
            descriptor
                .translate_pk(&mut AtIndex {
                    keys: &keys,
                    index,
                    secp: &secp,
                })
                .unwrap_or_else(|_| panic!("policy descriptors derive at unhardened indexes"))
                .script_pubkey()
        })
        .collect()
}

/// Each xpub of a single-chain descriptor derived to the chain (all but the
/// wildcard step). The signer's review derives from these too
/// ([`crate::psbt`]).
pub(crate) fn chain_xpubs(
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

/// Translates a single-chain descriptor's keys to their public keys at one
/// index, from the chain-level xpubs of [`chain_xpubs`].
pub(crate) struct AtIndex<'a> {
    /// The chain-level xpub of each key.
    pub keys: &'a HashMap<DescriptorPublicKey, Xpub>,
    /// The address index.
    pub index: u32,
    /// A context made once: each new one costs a multiplication.
    pub secp: &'a Secp256k1<VerifyOnly>,
}

impl Translator<DescriptorPublicKey, PublicKey, ()> for AtIndex<'_> {
    fn pk(&mut self, pk: &DescriptorPublicKey) -> Result<PublicKey, ()> {
        match self.keys.get(pk) {
            Some(xpub) => child_key(xpub, self.index, self.secp),
            None => plain_key(pk, self.secp),
        }
        .ok_or(())
    }
    translate_hash_clone!(DescriptorPublicKey, PublicKey, ());
}

/// The public key at `index` below a chain-level xpub: the tweak and one
/// addition (the child's chain code and fingerprint, which `ckd_pub` would
/// compute too, are not needed). `None` only for a hardened index or a
/// tweak that breaks BIP-32 (probability 2^-128).
pub(crate) fn child_key(
    xpub: &Xpub,
    index: u32,
    secp: &Secp256k1<VerifyOnly>,
) -> Option<PublicKey> {
    let (tweak, _) = xpub.ckd_pub_tweak(ChildNumber::Normal { index }).ok()?;
    let key = xpub.public_key.add_exp_tweak(secp, &tweak.into()).ok()?;
    Some(PublicKey::new(key))
}

/// A key of a descriptor that is not an xpub (a taproot internal key given
/// as a plain key) as a public key.
pub(crate) fn plain_key(
    pk: &DescriptorPublicKey,
    secp: &Secp256k1<VerifyOnly>,
) -> Option<PublicKey> {
    pk.clone()
        .at_derivation_index(0)
        .ok()?
        .derive_public_key(secp)
        .ok()
}

#[cfg(test)]
mod tests {
    use crate::policy::{Chain, Tier, VaultPolicy};

    #[test]
    fn scripts_are_miniscripts_own_for_both_script_kinds_and_recovery() {
        for name in ["regtest-exchange", "regtest-taproot", "regtest-recovery"] {
            let path = format!("{}/policies/{name}.toml", env!("CARGO_MANIFEST_DIR"));
            let policy = VaultPolicy::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
            for tier in Tier::ALL {
                let d = policy.descriptor(tier);
                for chain in [Chain::Receive, Chain::Change] {
                    let scripts = d.script_pubkeys(chain, 5..17);
                    assert_eq!(scripts.len(), 12);
                    for (index, script) in (5..17).zip(scripts) {
                        assert_eq!(script, d.script_pubkey(chain, index), "{name} {tier}");
                    }
                }
            }
        }
    }
}

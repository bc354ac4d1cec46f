//! The scripts a tier's wallet watches, derived once, on every core, when
//! its database is created, and cached there for bdk.
//!
//! bdk derives a script for each index of its lookahead one at a time, with
//! miniscript's slower derivation, and keeps deriving as payments reveal
//! higher indexes: for the example vault that is about 8,000 scripts and
//! 60,000 elliptic-curve operations, most of a first sync's time. The cache
//! covers every index bdk may ask for while the wallet stays within the
//! policy's range: up to `max_index` revealed, plus the lookahead.

use std::collections::BTreeMap;

use bdk_wallet::chain::{keychain_txout, DescriptorExt};

use crate::policy::{Chain, WalletDescriptor};

/// The spk cache of both chains of `wallet` for indexes `0..end`, as bdk
/// stores it.
pub(crate) fn spk_cache(wallet: &WalletDescriptor, end: u32) -> keychain_txout::ChangeSet {
    let spk_cache = [Chain::Receive, Chain::Change]
        .into_iter()
        .map(|chain| {
            let scripts = (0..end).zip(wallet.script_pubkeys(chain, 0..end)).collect();
            (wallet.chain(chain).descriptor_id(), scripts)
        })
        .collect();
    keychain_txout::ChangeSet {
        last_revealed: BTreeMap::new(),
        spk_cache,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Tier, VaultPolicy};

    #[test]
    fn the_cache_is_keyed_as_bdk_keys_its_descriptors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/policies/regtest-exchange.toml"
        );
        let policy = VaultPolicy::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
        let d = policy.descriptor(Tier::Hot);
        let cache = spk_cache(d, 3);
        for chain in [Chain::Receive, Chain::Change] {
            // bdk parses the descriptor text it is given.
            let parsed: miniscript::Descriptor<miniscript::DescriptorPublicKey> =
                d.chain(chain).to_string().parse().unwrap();
            let scripts = &cache.spk_cache[&parsed.descriptor_id()];
            assert_eq!(scripts[&2], d.script_pubkey(chain, 2));
        }
    }
}

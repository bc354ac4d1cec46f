//! Deriving the vault's scripts fast enough for 10,000-input PSBTs.
//!
//! Each key's chain-level xpub (`account/chain`) is derived once per wallet
//! and chain; a script at an index then costs one public derivation per key
//! instead of two. A unit test checks the result equals miniscript's own
//! derivation of the policy descriptors.
//!
//! With the signer's table of the vault's address keys ([`AddressKeys`],
//! made when the policy was registered) a script costs no elliptic-curve
//! work at all: it is read from the table, and a random sample of the
//! records read is derived again and compared, so a table that does not
//! match its policy is found and set aside (everything is then derived).

use std::collections::{BTreeSet, HashMap, HashSet};

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, Xpub};
use bitcoin::secp256k1::{Secp256k1, VerifyOnly};
use bitcoin::{PublicKey, ScriptBuf};
use miniscript::descriptor::DescriptorPublicKey;
use miniscript::{Descriptor, TranslatePk};

use crate::policy::scripts::{chain_xpubs, AtIndex};
use crate::policy::{AddressKeys, Chain, Tier, VaultPolicy};
use serde::Serialize;

/// Where in the vault a script sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct VaultPath {
    /// The wallet.
    pub tier: Tier,
    /// 0 receive, 1 change.
    pub chain: u32,
    /// Address index.
    pub index: u32,
}

/// Most distinct vault paths the derivations of one input or output may name
/// before they are treated as false claims (one per wallet is honest).
const MAX_CANDIDATES: usize = 4;

/// How many of the table records a review reads are derived again and
/// compared: all of them in a PSBT with no more vault paths than this.
const TABLE_SAMPLE: usize = 16;

/// Derives and caches scripts of the vault's wallets.
pub(crate) struct Deriver<'p> {
    pub policy: &'p VaultPolicy,
    secp: Secp256k1<VerifyOnly>,
    chains: HashMap<(Tier, u32), HashMap<DescriptorPublicKey, Xpub>>,
    cache: HashMap<VaultPath, Derived>,
    /// The address key table, while it agrees with the policy.
    table: Option<&'p AddressKeys>,
    /// Whether a table was given and set aside because a record read from
    /// it differed from the policy's derivation.
    table_set_aside: bool,
}

/// One vault path's script descriptor and the output script it makes (a
/// script hash or a taproot tweak to compute only once).
struct Derived {
    descriptor: Descriptor<PublicKey>,
    script_pubkey: ScriptBuf,
}

impl Derived {
    fn new(descriptor: Descriptor<PublicKey>) -> Self {
        Derived {
            script_pubkey: descriptor.script_pubkey(),
            descriptor,
        }
    }

    /// The record of `at` in `table`, if it is there and intact.
    fn from_table(table: &AddressKeys, at: VaultPath) -> Option<Self> {
        let chain = Chain::from_main_step(at.chain)?;
        let (descriptor, script_pubkey) = table.at(at.tier, chain, at.index)?;
        Some(Derived {
            descriptor,
            script_pubkey,
        })
    }
}

/// The script descriptor of one vault path, from its chain's xpubs (which
/// [`Deriver::chain_keys`] put in `chains` first).
fn derive_at(
    policy: &VaultPolicy,
    secp: &Secp256k1<VerifyOnly>,
    chains: &HashMap<(Tier, u32), HashMap<DescriptorPublicKey, Xpub>>,
    at: VaultPath,
) -> Descriptor<PublicKey> {
    let chain = Chain::from_main_step(at.chain).expect("only main chains are derived");
    policy
        .descriptor(at.tier)
        .chain(chain)
        .translate_pk(&mut AtIndex {
            keys: &chains[&(at.tier, at.chain)],
            index: at.index,
            secp,
        })
        .unwrap_or_else(|_| panic!("policy descriptors derive at unhardened indexes"))
}

impl<'p> Deriver<'p> {
    pub fn new(policy: &'p VaultPolicy) -> Self {
        Deriver {
            policy,
            secp: Secp256k1::verification_only(),
            chains: HashMap::new(),
            cache: HashMap::new(),
            table: None,
            table_set_aside: false,
        }
    }

    /// A deriver that reads scripts from `table`, the policy's address key
    /// table, where it can. Only for the inputs a PSBT spends: an output's
    /// script decides where funds go, and is always derived.
    pub fn with_table(policy: &'p VaultPolicy, table: Option<&'p AddressKeys>) -> Self {
        let table = table.filter(|t| t.policy_id() == policy.id());
        Deriver {
            table,
            ..Deriver::new(policy)
        }
    }

    /// Whether the table given was set aside: a record read from it was not
    /// what the policy derives (a damaged or altered file; `register` makes
    /// it again). Everything was then derived from the policy.
    pub fn table_set_aside(&self) -> bool {
        self.table_set_aside
    }

    pub fn descriptor(&mut self, at: VaultPath) -> &Descriptor<PublicKey> {
        &self.derived(at).descriptor
    }

    fn derived(&mut self, at: VaultPath) -> &Derived {
        if !self.cache.contains_key(&at) {
            self.chain_keys(at.tier, at.chain);
            let derived = derive_at(self.policy, &self.secp, &self.chains, at);
            self.cache.insert(at, Derived::new(derived));
        }
        &self.cache[&at]
    }

    /// The chain-level xpubs of one wallet's chain, derived once.
    fn chain_keys(&mut self, tier: Tier, chain: u32) {
        let (policy, secp) = (self.policy, &self.secp);
        self.chains.entry((tier, chain)).or_insert_with(|| {
            let c = Chain::from_main_step(chain).expect("only main chains are derived");
            chain_xpubs(policy.descriptor(tier).chain(c), secp)
        });
    }

    /// Derives, on every core, the script of every vault path the claims
    /// name (a set of claims per script), so that the review that follows
    /// finds them derived: at 10,000 inputs this elliptic-curve work is most
    /// of a review. Sets naming more paths than an honest PSBT would are
    /// left to [`locate`](Self::locate), which refuses them.
    pub fn prefetch(&mut self, claim_sets: &[Vec<(Fingerprint, DerivationPath)>]) {
        use rayon::prelude::*;
        let mut wanted: HashSet<VaultPath> = HashSet::new();
        for claims in claim_sets {
            let candidates = self.candidates(claims.iter());
            if candidates.len() > MAX_CANDIDATES {
                continue;
            }
            wanted.extend(
                candidates
                    .into_iter()
                    .map(|(tier, chain, index)| VaultPath { tier, chain, index })
                    .filter(|at| !self.cache.contains_key(at)),
            );
        }
        let chains: BTreeSet<(Tier, u32)> = wanted.iter().map(|at| (at.tier, at.chain)).collect();
        for (tier, chain) in chains {
            self.chain_keys(tier, chain);
        }
        let (policy, secp, keys) = (self.policy, &self.secp, &self.chains);
        let derive = |at: VaultPath| Derived::new(derive_at(policy, secp, keys, at));
        if let Some(table) = self.table {
            let read: Vec<(VaultPath, Derived)> = wanted
                .par_iter()
                .map(|&at| {
                    (
                        at,
                        Derived::from_table(table, at).unwrap_or_else(|| derive(at)),
                    )
                })
                .collect();
            if sample_agrees(&read, derive) {
                self.cache.extend(read);
                return;
            }
            self.table = None;
            self.table_set_aside = true;
        }
        // The output script too (for taproot one more elliptic-curve
        // operation), on every core rather than later one by one.
        let derived: Vec<(VaultPath, Derived)> =
            wanted.into_par_iter().map(|at| (at, derive(at))).collect();
        self.cache.extend(derived);
    }

    /// The vault paths a set of derivation claims could mean.
    fn candidates<'a>(
        &self,
        claims: impl Iterator<Item = &'a (Fingerprint, DerivationPath)>,
    ) -> BTreeSet<(Tier, u32, u32)> {
        let mut out = BTreeSet::new();
        for (fingerprint, path) in claims {
            for key in self.policy.keys().values() {
                let origin = key.xpub();
                if origin.fingerprint() != *fingerprint {
                    continue;
                }
                let Some(tier) = self.policy.tier_of_key(key.id()) else {
                    continue;
                };
                let full: &[ChildNumber] = path.as_ref();
                let account: &[ChildNumber] = origin.path().as_ref();
                if full.len() != account.len() + 2 || !full.starts_with(account) {
                    continue;
                }
                if let [ChildNumber::Normal { index: chain }, ChildNumber::Normal { index }] =
                    full[account.len()..]
                {
                    if chain <= 1 {
                        out.insert((tier, chain, index));
                    }
                }
            }
        }
        out
    }

    /// The verified vault path of `script` among the claims, and whether
    /// there were claims naming vault keys that did not verify.
    pub fn locate<'a>(
        &mut self,
        script: &bitcoin::Script,
        claims: impl Iterator<Item = &'a (Fingerprint, DerivationPath)>,
    ) -> (Option<VaultPath>, bool) {
        let candidates = self.candidates(claims);
        // An honest PSBT names one (chain, index) per script; many different
        // ones would only make the signer derive keys for nothing.
        if candidates.len() > MAX_CANDIDATES {
            return (None, true);
        }
        for &(tier, chain, index) in &candidates {
            let at = VaultPath { tier, chain, index };
            if self.derived(at).script_pubkey.as_script() == script {
                return (Some(at), false);
            }
        }
        (None, !candidates.is_empty())
    }
}

/// Whether a random sample of the scripts `read` from the table (all of
/// them, when there are few) are what `derive` derives from the policy.
fn sample_agrees(
    read: &[(VaultPath, Derived)],
    derive: impl Fn(VaultPath) -> Derived + Sync,
) -> bool {
    use bitcoin::secp256k1::rand::seq::index::sample;
    use rayon::prelude::*;
    let mut rng = bitcoin::secp256k1::rand::thread_rng();
    let picked = sample(&mut rng, read.len(), TABLE_SAMPLE.min(read.len())).into_vec();
    picked.into_par_iter().all(|i| {
        let (at, from_table) = &read[i];
        let derived = derive(*at);
        derived.descriptor == from_table.descriptor
            && derived.script_pubkey == from_table.script_pubkey
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::policy::example as policy;

    /// The derivation claims of an honest PSBT for a script at `at`: each
    /// key of the wallet at its origin, then chain and index.
    fn claims(policy: &VaultPolicy, at: VaultPath) -> Vec<(Fingerprint, DerivationPath)> {
        policy
            .wallet(at.tier)
            .keys()
            .iter()
            .map(|id| {
                let origin = policy.key(id).unwrap().xpub();
                let path = origin.path().extend([
                    ChildNumber::Normal { index: at.chain },
                    ChildNumber::Normal { index: at.index },
                ]);
                (origin.fingerprint(), path)
            })
            .collect()
    }

    #[test]
    fn scripts_read_from_the_table_are_the_derived_ones_and_a_wrong_record_sets_it_aside() {
        for name in ["regtest-exchange", "regtest-taproot"] {
            let policy = policy(name);
            let table = AddressKeys::derive(&policy);
            let paths = [(Tier::Hot, 0, 3), (Tier::Hot, 1, 4), (Tier::Cold, 0, 5)]
                .map(|(tier, chain, index)| VaultPath { tier, chain, index });
            let sets: Vec<_> = paths.iter().map(|at| claims(&policy, *at)).collect();
            let mut plain = Deriver::new(&policy);
            plain.prefetch(&sets);
            let scripts: Vec<ScriptBuf> = paths
                .iter()
                .map(|at| plain.descriptor(*at).script_pubkey())
                .collect();

            let mut read = Deriver::with_table(&policy, Some(&table));
            read.prefetch(&sets);
            assert!(!read.table_set_aside(), "{name}");
            for ((at, claims), script) in paths.iter().zip(&sets).zip(&scripts) {
                assert_eq!(read.locate(script, claims.iter()), (Some(*at), false));
                assert_eq!(read.descriptor(*at), plain.descriptor(*at), "{name}");
            }

            // The record of hot receive index 4 put at index 3, with a
            // checksum that fits there: the sample finds it, and the script
            // at index 3 is still the policy's.
            let wrong = table.with_record_copied(Tier::Hot, Chain::Receive, 4, 3);
            let mut read = Deriver::with_table(&policy, Some(&wrong));
            read.prefetch(&sets);
            assert!(read.table_set_aside(), "{name}");
            assert_eq!(
                read.locate(&scripts[0], sets[0].iter()),
                (Some(paths[0]), false)
            );
            assert_eq!(read.descriptor(paths[0]), plain.descriptor(paths[0]));

            // A table of another policy is not used at all.
            let other = AddressKeys::derive(&crate::policy::example("regtest-recovery"));
            let mut read = Deriver::with_table(&policy, Some(&other));
            read.prefetch(&sets);
            assert!(!read.table_set_aside());
            assert_eq!(
                read.locate(&scripts[1], sets[1].iter()),
                (Some(paths[1]), false)
            );
        }
    }

    #[test]
    fn fast_derivation_equals_miniscripts() {
        let secp = Secp256k1::verification_only();
        for name in ["regtest-exchange", "regtest-taproot", "regtest-recovery"] {
            let policy = policy(name);
            let mut deriver = Deriver::new(&policy);
            for tier in Tier::ALL {
                for chain in [Chain::Receive, Chain::Change] {
                    for index in [0, 1, 7, 99_999] {
                        let slow = policy
                            .descriptor(tier)
                            .at(chain, index)
                            .derived_descriptor(&secp)
                            .unwrap();
                        let at = VaultPath {
                            tier,
                            chain: chain.index(),
                            index,
                        };
                        assert_eq!(deriver.descriptor(at), &slow, "{name} {tier} {index}");
                    }
                }
            }
        }
    }
}

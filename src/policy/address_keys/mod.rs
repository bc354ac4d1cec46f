//! The vault's address keys, derived once when a signer registers a policy,
//! so that reviewing a 10,000-input PSBT looks its inputs' keys up instead
//! of deriving them: deriving is 30,000 elliptic-curve operations at that
//! size, most of a review.
//!
//! The table is derived data, never a source of truth. It is bound to its
//! policy's id, every record carries a checksum of its place and content,
//! and a review derives a random sample of the records it uses again from
//! the policy (see `psbt::derive`); outputs, where a wrong table could send
//! funds away, are always derived from the policy. What a wrong record can
//! do is make an input look like the vault's, or not: the signature made
//! for it would be by the key of that vault path, which spends nothing
//! but the vault's own coin in the very transaction reviewed.
//!
//! Layout (integers little-endian): [`MAGIC`], the policy id (32 bytes),
//! `max_index` (u32), then for each wallet (cold, hot) and main chain
//! (receive, change) its number of key columns (u8); then the records of
//! each section in that order, one per index `0..=max_index`: each column's
//! public key at the index (64 bytes, uncompressed without its prefix, so
//! reading it costs no square root), the output script (34 bytes: P2WSH and
//! P2TR alike), and the first 4 bytes of the SHA-256 of the policy id, the
//! section, the index and those bytes.

use std::collections::HashMap;

use bitcoin::bip32::Xpub;
use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::secp256k1::{self, Secp256k1, VerifyOnly};
use bitcoin::{PublicKey, ScriptBuf};
use miniscript::descriptor::DescriptorPublicKey;
use miniscript::{translate_hash_clone, Descriptor, ForEachKey, TranslatePk, Translator};
use rayon::prelude::*;

use super::scripts::{chain_xpubs, child_key, plain_key};
use super::{Chain, PolicyId, Tier, VaultPolicy};

/// The first bytes of a table file.
pub const MAGIC: &[u8; 24] = b"custodia address keys 1\n";

/// The sections of a table, in file order.
const SECTIONS: [(Tier, Chain); 4] = [
    (Tier::Cold, Chain::Receive),
    (Tier::Cold, Chain::Change),
    (Tier::Hot, Chain::Receive),
    (Tier::Hot, Chain::Change),
];

const KEY_LEN: usize = 64;
const SCRIPT_LEN: usize = 34;
const CHECK_LEN: usize = 4;

/// Why table bytes were not taken for a policy: each means the table is to
/// be derived again (`register` does it), never that the policy is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressKeysError {
    /// Not a table of this format.
    #[error("not an address key table of this version")]
    Format,
    /// A table of another policy.
    #[error("it is the table of policy {0}")]
    OtherPolicy(PolicyId),
    /// The table's shape is not this policy's (index range, keys per script).
    #[error("its shape does not match the policy (address range or keys per script)")]
    Shape,
}

/// One wallet chain's part of a table.
#[derive(Debug, Clone)]
struct Section {
    /// The single-chain descriptor the keys fill in.
    descriptor: Descriptor<DescriptorPublicKey>,
    /// Each xpub's column in a record.
    columns: HashMap<DescriptorPublicKey, usize>,
    /// Keys that are not xpubs (a taproot internal key), converted once.
    singles: HashMap<DescriptorPublicKey, PublicKey>,
    /// Where its first record starts in the table.
    start: usize,
}

impl Section {
    fn new(policy: &VaultPolicy, tier: Tier, chain: Chain, secp: &Secp256k1<VerifyOnly>) -> Self {
        let descriptor = policy.descriptor(tier).chain(chain).clone();
        let mut columns = HashMap::new();
        let mut singles = HashMap::new();
        descriptor.for_each_key(|pk| {
            match pk {
                DescriptorPublicKey::XPub(_) => {
                    let next = columns.len();
                    columns.entry(pk.clone()).or_insert(next);
                }
                _ => {
                    if let Some(key) = plain_key(pk, secp) {
                        singles.insert(pk.clone(), key);
                    }
                }
            }
            true
        });
        Section {
            descriptor,
            columns,
            singles,
            start: 0,
        }
    }

    fn record_len(&self) -> usize {
        self.columns.len() * KEY_LEN + SCRIPT_LEN + CHECK_LEN
    }

    /// The descriptor with `keys` (one per column) in place of its xpubs.
    fn fill(&self, keys: &[PublicKey]) -> Option<Descriptor<PublicKey>> {
        self.descriptor
            .translate_pk(&mut Filled {
                section: self,
                keys,
            })
            .ok()
    }
}

/// A table of the vault's address keys for one policy (see the module
/// documentation): the keys of every script of both wallets' receive and
/// change chains up to the policy's `max_index`.
#[derive(Clone)]
pub struct AddressKeys {
    policy_id: PolicyId,
    max_index: u32,
    sections: Vec<Section>,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for AddressKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddressKeys")
            .field("policy_id", &self.policy_id)
            .field("max_index", &self.max_index)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl AddressKeys {
    /// Derives the table of `policy`, on every core: at the largest
    /// `max_index` a policy may set this takes seconds, once.
    pub fn derive(policy: &VaultPolicy) -> AddressKeys {
        let secp = Secp256k1::verification_only();
        let max_index = policy.rules().addresses().max_index();
        let mut table = AddressKeys::layout(policy, max_index, &secp);
        let mut bytes = table.header();
        for (s, section) in table.sections.iter().enumerate() {
            let (tier, chain) = SECTIONS[s];
            let xpubs = chain_xpubs(policy.descriptor(tier).chain(chain), &secp);
            let mut order: Vec<(&DescriptorPublicKey, usize)> =
                section.columns.iter().map(|(k, c)| (k, *c)).collect();
            order.sort_by_key(|(_, c)| *c);
            let chain_keys: Vec<&Xpub> = order.iter().map(|(k, _)| &xpubs[*k]).collect();
            let records: Vec<Vec<u8>> = (0..=max_index)
                .into_par_iter()
                .map(|index| {
                    let keys: Vec<PublicKey> = chain_keys
                        .iter()
                        .map(|xpub| {
                            child_key(xpub, index, &secp).expect(
                                "unhardened derivation succeeds but with probability 2^-128",
                            )
                        })
                        .collect();
                    let script = section
                        .fill(&keys)
                        .expect("a policy descriptor takes public keys")
                        .script_pubkey();
                    record(table.policy_id, s, index, &keys, &script)
                })
                .collect();
            for r in records {
                bytes.extend_from_slice(&r);
            }
        }
        table.bytes = bytes;
        table
    }

    /// Takes the bytes of a table written for `policy`.
    pub fn from_bytes(
        policy: &VaultPolicy,
        bytes: Vec<u8>,
    ) -> Result<AddressKeys, AddressKeysError> {
        let secp = Secp256k1::verification_only();
        let rest = bytes.strip_prefix(MAGIC).ok_or(AddressKeysError::Format)?;
        if rest.len() < 32 + 4 + SECTIONS.len() {
            return Err(AddressKeysError::Format);
        }
        let id = PolicyId::from_bytes(rest[..32].try_into().expect("32 bytes"));
        let max_index = u32::from_le_bytes(rest[32..36].try_into().expect("4 bytes"));
        let table = AddressKeys::layout(policy, max_index, &secp);
        if id != table.policy_id {
            return Err(AddressKeysError::OtherPolicy(id));
        }
        let header = table.header();
        let records: usize = table.sections.iter().map(Section::record_len).sum();
        let expected = (max_index as usize + 1) * records + header.len();
        if max_index != policy.rules().addresses().max_index()
            || !bytes.starts_with(&header)
            || bytes.len() != expected
        {
            return Err(AddressKeysError::Shape);
        }
        Ok(AddressKeys { bytes, ..table })
    }

    /// The table's bytes, as written to its file.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The policy the table belongs to.
    pub fn policy_id(&self) -> PolicyId {
        self.policy_id
    }

    /// The descriptor of `tier`'s `chain` at `index` and its output script,
    /// from the table; `None` when the index is out of range or the record
    /// fails its checksum or holds no valid key (then derive it).
    pub fn at(
        &self,
        tier: Tier,
        chain: Chain,
        index: u32,
    ) -> Option<(Descriptor<PublicKey>, ScriptBuf)> {
        if index > self.max_index {
            return None;
        }
        let s = SECTIONS.iter().position(|x| *x == (tier, chain))?;
        let section = &self.sections[s];
        let len = section.record_len();
        let from = section.start + index as usize * len;
        let bytes = self.bytes.get(from..from + len)?;
        let (body, check) = bytes.split_at(len - CHECK_LEN);
        if checksum(self.policy_id, s, index, body) != check {
            return None;
        }
        let (key_bytes, script) = body.split_at(body.len() - SCRIPT_LEN);
        let mut keys = Vec::with_capacity(section.columns.len());
        let mut uncompressed = [4u8; 65];
        for key in key_bytes.chunks_exact(KEY_LEN) {
            uncompressed[1..].copy_from_slice(key);
            keys.push(PublicKey::new(
                secp256k1::PublicKey::from_slice(&uncompressed).ok()?,
            ));
        }
        let descriptor = section.fill(&keys)?;
        Some((descriptor, ScriptBuf::from_bytes(script.to_vec())))
    }

    /// The sections of `policy` with `max_index`, and where their records
    /// start; no records yet.
    fn layout(policy: &VaultPolicy, max_index: u32, secp: &Secp256k1<VerifyOnly>) -> AddressKeys {
        let mut sections: Vec<Section> = SECTIONS
            .iter()
            .map(|(tier, chain)| Section::new(policy, *tier, *chain, secp))
            .collect();
        let mut start = MAGIC.len() + 32 + 4 + SECTIONS.len();
        for section in &mut sections {
            section.start = start;
            start += (max_index as usize + 1) * section.record_len();
        }
        AddressKeys {
            policy_id: policy.id(),
            max_index,
            sections,
            bytes: Vec::new(),
        }
    }

    /// A copy whose record at `to` holds the record of `from`, with a
    /// checksum that fits its new place: what a deliberate alteration of
    /// the file looks like, for the review's sample to find.
    #[cfg(test)]
    pub(crate) fn with_record_copied(&self, tier: Tier, chain: Chain, from: u32, to: u32) -> Self {
        let s = SECTIONS
            .iter()
            .position(|x| *x == (tier, chain))
            .expect("a main chain");
        let section = &self.sections[s];
        let len = section.record_len();
        let at = |index: u32| section.start + index as usize * len;
        let mut bytes = self.bytes.clone();
        let body = bytes[at(from)..at(from) + len - CHECK_LEN].to_vec();
        bytes[at(to)..at(to) + len - CHECK_LEN].copy_from_slice(&body);
        let check = checksum(self.policy_id, s, to, &body);
        bytes[at(to) + len - CHECK_LEN..at(to) + len].copy_from_slice(&check);
        AddressKeys {
            bytes,
            ..self.clone()
        }
    }

    fn header(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&self.policy_id.to_bytes());
        out.extend_from_slice(&self.max_index.to_le_bytes());
        for section in &self.sections {
            out.push(u8::try_from(section.columns.len()).expect("a script has at most 20 keys"));
        }
        out
    }
}

/// One record: the keys, the script, the checksum.
fn record(
    id: PolicyId,
    section: usize,
    index: u32,
    keys: &[PublicKey],
    script: &ScriptBuf,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(keys.len() * KEY_LEN + SCRIPT_LEN + CHECK_LEN);
    for key in keys {
        out.extend_from_slice(&key.inner.serialize_uncompressed()[1..]);
    }
    assert_eq!(
        script.len(),
        SCRIPT_LEN,
        "P2WSH and P2TR scripts are 34 bytes"
    );
    out.extend_from_slice(script.as_bytes());
    let check = checksum(id, section, index, &out);
    out.extend_from_slice(&check);
    out
}

fn checksum(id: PolicyId, section: usize, index: u32, body: &[u8]) -> [u8; CHECK_LEN] {
    let mut engine = sha256::Hash::engine();
    engine.input(&id.to_bytes());
    engine.input(&[section as u8]);
    engine.input(&index.to_le_bytes());
    engine.input(body);
    let hash = sha256::Hash::from_engine(engine).to_byte_array();
    hash[..CHECK_LEN].try_into().expect("4 bytes")
}

/// Fills a section's descriptor with one record's keys.
struct Filled<'a> {
    section: &'a Section,
    keys: &'a [PublicKey],
}

impl Translator<DescriptorPublicKey, PublicKey, ()> for Filled<'_> {
    fn pk(&mut self, pk: &DescriptorPublicKey) -> Result<PublicKey, ()> {
        match self.section.columns.get(pk) {
            Some(column) => self.keys.get(*column).copied().ok_or(()),
            None => self.section.singles.get(pk).copied().ok_or(()),
        }
    }
    translate_hash_clone!(DescriptorPublicKey, PublicKey, ());
}

#[cfg(test)]
mod tests;

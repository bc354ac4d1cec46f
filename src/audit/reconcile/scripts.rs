//! Which output scripts are the vault's, and which inputs spend them.
//!
//! The scripts are re-derived from the policies, for both tiers, both chains
//! and every index up to each policy's `max_index`: the auditor never asks
//! the coordinator which addresses are its own. An input is recognised as a
//! vault spend by the output it spends when that output was seen (funded at
//! or after the first height walked), and otherwise by its witness, which
//! reveals the script it satisfies: the witness script of a P2WSH input, or
//! the leaf script and control block of a P2TR script-path input, from which
//! the output key is recomputed.

use std::collections::{BTreeSet, HashMap};

use bitcoin::hashes::Hash;
use bitcoin::key::{Secp256k1, TapTweak};
use bitcoin::secp256k1::Verification;
use bitcoin::taproot::{ControlBlock, TapLeafHash, TapNodeHash};
use bitcoin::{ScriptBuf, WScriptHash, Witness};

use crate::policy::{Chain, PolicyId, Tier, VaultPolicy};

/// Who an output script belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptOwner {
    /// The tier.
    pub tier: Tier,
    /// Every given policy that derives this script (a replacement that kept
    /// the keys derives the same scripts as its predecessor).
    pub policies: BTreeSet<PolicyId>,
}

/// Every script of the given policies, by script.
#[derive(Debug, Default)]
pub struct VaultScripts {
    owners: HashMap<ScriptBuf, ScriptOwner>,
}

impl VaultScripts {
    /// Derives every script of `policies` up to each one's `max_index`.
    pub fn of(policies: &[VaultPolicy]) -> VaultScripts {
        let mut owners: HashMap<ScriptBuf, ScriptOwner> = HashMap::new();
        for policy in policies {
            let last = policy.rules().addresses().max_index();
            for tier in Tier::ALL {
                let descriptor = policy.descriptor(tier);
                for chain in [Chain::Receive, Chain::Change] {
                    for index in 0..=last {
                        owners
                            .entry(descriptor.script_pubkey(chain, index))
                            .or_insert_with(|| ScriptOwner {
                                tier,
                                policies: BTreeSet::new(),
                            })
                            .policies
                            .insert(policy.id());
                    }
                }
            }
        }
        VaultScripts { owners }
    }

    /// The owner of `script`, if it is a vault script.
    pub fn owner(&self, script: &ScriptBuf) -> Option<&ScriptOwner> {
        self.owners.get(script)
    }

    /// The owner of the script an input with `witness` spends, if the
    /// witness shows it (P2WSH, or a P2TR script path).
    pub fn owner_by_witness<C: Verification>(
        &self,
        secp: &Secp256k1<C>,
        witness: &Witness,
    ) -> Option<&ScriptOwner> {
        spent_script(secp, witness)
            .into_iter()
            .find_map(|script| self.owner(&script))
    }
}

/// The output scripts `witness` could be spending: the P2WSH of its last
/// element, and the P2TR output its leaf and control block commit to.
fn spent_script<C: Verification>(secp: &Secp256k1<C>, witness: &Witness) -> Vec<ScriptBuf> {
    let mut items: Vec<&[u8]> = witness.iter().collect();
    // BIP-341: with two or more elements, a last one starting 0x50 is an annex.
    if items.len() >= 2 && items.last().is_some_and(|a| a.first() == Some(&0x50)) {
        items.pop();
    }
    let mut out = Vec::new();
    if let Some(last) = items.last() {
        out.push(ScriptBuf::new_p2wsh(&WScriptHash::hash(last)));
    }
    if items.len() >= 2 {
        let (leaf, control) = (items[items.len() - 2], items[items.len() - 1]);
        if let Ok(control) = ControlBlock::decode(control) {
            let leaf = ScriptBuf::from_bytes(leaf.to_vec());
            let mut node = TapNodeHash::from(TapLeafHash::from_script(&leaf, control.leaf_version));
            for sibling in control.merkle_branch.iter() {
                node = TapNodeHash::from_node_hashes(node, *sibling);
            }
            let (output_key, _) = control.internal_key.tap_tweak(secp, Some(node));
            out.push(ScriptBuf::new_p2tr_tweaked(output_key));
        }
    }
    out
}

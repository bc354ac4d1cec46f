//! Bitcoin Core `importdescriptors` JSON for a watch-only descriptor wallet
//! (`createwallet NAME true true` — no private keys, blank): the receive and
//! change descriptors of one tier, active, over every index the policy lets
//! the vault use, rescanning from the genesis block. Single-path descriptors
//! rather than one multipath descriptor, so that Core versions before 29
//! import them too.

use serde::{Deserialize, Serialize};

use crate::policy::{Chain, Tier, VaultPolicy};

/// One request of `importdescriptors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRequest {
    /// The descriptor with its checksum.
    pub desc: String,
    /// Whether Core hands out addresses from it.
    pub active: bool,
    /// Change (true) or receive (false).
    pub internal: bool,
    /// First and last index Core watches.
    pub range: [u32; 2],
    /// Rescan from this Unix time; 0 scans the whole chain.
    pub timestamp: u64,
}

/// The requests of one tier.
pub fn requests(policy: &VaultPolicy, tier: Tier) -> Vec<ImportRequest> {
    let d = policy.descriptor(tier);
    let last = policy.rules().addresses().max_index();
    [Chain::Receive, Chain::Change]
        .into_iter()
        .map(|chain| ImportRequest {
            desc: d.chain(chain).to_string(),
            active: true,
            internal: chain == Chain::Change,
            range: [0, last],
            timestamp: 0,
        })
        .collect()
}

/// The JSON array, ready for `bitcoin-cli importdescriptors "$(cat FILE)"`.
pub fn write(policy: &VaultPolicy, tier: Tier) -> String {
    let mut text =
        serde_json::to_string_pretty(&requests(policy, tier)).expect("plain structs serialize");
    text.push('\n');
    text
}

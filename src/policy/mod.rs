//! The vault policy: one public TOML file that describes a vault completely
//! (keys, cold and hot wallets, approvers, rules), parsed into types that cannot
//! hold an invalid value, and named by its [`PolicyId`].

mod add_key;
mod address_keys;
pub mod approval;
pub mod cosigner;
mod descriptor;
mod devices;
pub mod diff;
mod error;
pub mod export;
mod file;
mod id;
mod ids;
mod keys;
mod parse;
mod report;
pub mod rules;
pub(crate) mod scripts;
mod slip132;
mod units;
pub mod update;
mod wallet;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use bitcoin::Network;

pub use add_key::{add_key, AddKeyError, NewKey};
pub use address_keys::{AddressKeys, AddressKeysError};
pub use descriptor::{Chain, WalletDescriptor, MAIN_CHAINS, NUMS_INTERNAL_KEY, RECOVERY_CHAINS};
pub use devices::{DeviceExposure, DevicesAloneError, SigningPath};
pub use error::{PolicyError, Problem};
pub use file::PolicyFile;
pub use id::PolicyId;
pub use ids::{ApproverId, BadId, KeyId};
pub use keys::{Approver, KeySigner, OriginXpub, VaultKey};
pub use parse::parse_network;
pub use report::{ApproverReport, KeyReport, PolicyReport, RulesReport, WalletReport};
pub use rules::{
    AddressRule, ColdToHotRule, FeeRule, PayoutDestinations, PayoutRule, RatioRule, Rules,
};
pub use units::{btc, format_amount, parse_amount, FeeRateLimit, UnitError};
pub use wallet::{bip48_coin_type, RecoveryPath, ScriptKind, Tier, WalletPolicy};

/// One of the example policies in `policies/`, for unit tests.
#[cfg(test)]
pub(crate) fn example(name: &str) -> VaultPolicy {
    let path = format!("{}/policies/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    VaultPolicy::load(Path::new(&path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A validated vault policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultPolicy {
    name: String,
    network: Network,
    keys: BTreeMap<KeyId, VaultKey>,
    cold: WalletPolicy,
    hot: WalletPolicy,
    cold_descriptor: WalletDescriptor,
    hot_descriptor: WalletDescriptor,
    approvers: BTreeMap<ApproverId, Approver>,
    rules: Rules,
    id: PolicyId,
}

impl VaultPolicy {
    /// Parses and validates a policy from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let file: PolicyFile =
            toml::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?;
        Self::from_file(&file)
    }

    /// Validates a policy file already parsed from TOML.
    pub fn from_file(file: &PolicyFile) -> Result<Self, PolicyError> {
        parse::validate(file)
    }

    /// Reads, parses and validates a policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// The policy in its canonical file form: sorted, normalized, defaults
    /// filled in. Its hash is the policy id.
    pub fn to_file(&self) -> PolicyFile {
        use file::*;
        let wallet = |w: &WalletPolicy| WalletSection {
            threshold: w.threshold as i64,
            keys: w.keys.iter().map(|k| k.to_string()).collect(),
            script: w.script.to_string(),
            recovery: w.recovery.as_ref().map(|r| RecoverySection {
                after_blocks: Some(r.after_blocks.into()),
                threshold: r.threshold as i64,
                keys: r.keys.iter().map(|k| k.to_string()).collect(),
            }),
        };
        let r = &self.rules;
        PolicyFile {
            vault: VaultSection {
                name: self.name.clone(),
                network: self.network.to_string(),
            },
            keys: self
                .keys
                .values()
                .map(|k| KeySection {
                    id: k.id.to_string(),
                    holder: k.holder.clone(),
                    location: k.location.clone(),
                    xpub: k.xpub.to_string(),
                    signer: (k.signer == KeySigner::Device).then(|| k.signer.to_string()),
                })
                .collect(),
            wallets: WalletsSection {
                cold: wallet(&self.cold),
                hot: wallet(&self.hot),
            },
            approvers: self
                .approvers
                .values()
                .map(|a| ApproverSection {
                    id: a.id.to_string(),
                    department: a.department.clone(),
                    pubkey: a.pubkey.to_string(),
                })
                .collect(),
            rules: RulesSection {
                cold_to_hot: ColdToHotSection {
                    min_approvals: r.cold_to_hot.min_approvals as i64,
                    min_departments: r.cold_to_hot.min_departments as i64,
                    max_amount: format_amount(r.cold_to_hot.max_amount),
                    daily_limit: format_amount(r.cold_to_hot.daily_limit),
                },
                payouts: PayoutsSection {
                    allowlist: match &r.payouts.destinations {
                        PayoutDestinations::Allowlist(list) => {
                            list.iter().map(|a| a.to_string()).collect()
                        }
                        PayoutDestinations::AnyAddress => Vec::new(),
                    },
                    allow_any: r.payouts.destinations == PayoutDestinations::AnyAddress,
                    max_amount: format_amount(r.payouts.max_amount),
                    daily_limit: format_amount(r.payouts.daily_limit),
                },
                fees: FeesSection {
                    max_feerate: r.fees.max_feerate.to_string(),
                    max_fee: format_amount(r.fees.max_fee),
                },
                ratio: RatioSection {
                    cold_min_percent: r.ratio.cold_min_percent.into(),
                    hot_target_percent: Some(r.ratio.hot_target_percent.into()),
                },
                addresses: Some(AddressesSection {
                    max_index: r.addresses.max_index.into(),
                }),
                policy_change: r.policy_change.map(|c| PolicyChangeSection {
                    min_approvals: c.min_approvals as i64,
                    min_departments: c.min_departments as i64,
                    wait_blocks: c.wait_blocks.into(),
                }),
            },
        }
    }

    /// The policy as canonical TOML; parsing it gives the same policy and id.
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.to_file()).expect("a policy file serializes to TOML")
    }

    /// The policy id.
    pub fn id(&self) -> PolicyId {
        self.id
    }
    /// The vault's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The network the vault lives on.
    pub fn network(&self) -> Network {
        self.network
    }
    /// All keys, by id.
    pub fn keys(&self) -> &BTreeMap<KeyId, VaultKey> {
        &self.keys
    }
    /// One key.
    pub fn key(&self, id: &KeyId) -> Option<&VaultKey> {
        self.keys.get(id)
    }
    /// The wallet of a tier.
    pub fn wallet(&self, tier: Tier) -> &WalletPolicy {
        match tier {
            Tier::Cold => &self.cold,
            Tier::Hot => &self.hot,
        }
    }
    /// The compiled descriptor of a tier.
    pub fn descriptor(&self, tier: Tier) -> &WalletDescriptor {
        match tier {
            Tier::Cold => &self.cold_descriptor,
            Tier::Hot => &self.hot_descriptor,
        }
    }
    /// The tier whose wallet uses `key`, if any.
    pub fn tier_of_key(&self, key: &KeyId) -> Option<Tier> {
        Tier::ALL
            .into_iter()
            .find(|t| self.wallet(*t).uses_key(key))
    }
    /// All approvers, by id.
    pub fn approvers(&self) -> &BTreeMap<ApproverId, Approver> {
        &self.approvers
    }
    /// One approver.
    pub fn approver(&self, id: &ApproverId) -> Option<&Approver> {
        self.approvers.get(id)
    }
    /// The departments the approvers come from.
    pub fn departments(&self) -> BTreeSet<&str> {
        self.approvers.values().map(|a| a.department()).collect()
    }
    /// The rules.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }
}

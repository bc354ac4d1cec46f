//! From the policy file as written to a [`VaultPolicy`] that cannot hold an
//! invalid value. The first problem found is reported, with its field.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use bitcoin::address::NetworkUnchecked;
use bitcoin::secp256k1::XOnlyPublicKey;
use bitcoin::{Address, Amount, Network, NetworkKind};

use super::descriptor::WalletDescriptor;
use super::error::{PolicyError, Problem};
use super::file::{PolicyFile, RecoverySection, WalletSection};
use super::id::PolicyId;
use super::keys::{Approver, ApproverId, KeyId, OriginXpub, VaultKey};
use super::rules::{ColdToHotRule, FeeRule, PayoutDestinations, PayoutRule, RatioRule, Rules};
use super::units::{parse_amount, FeeRateLimit};
use super::wallet::{RecoveryPath, ScriptKind, Tier, WalletPolicy};
use super::VaultPolicy;

type Result<T> = std::result::Result<T, PolicyError>;

fn at<T>(field: impl Into<String>, r: std::result::Result<T, Problem>) -> Result<T> {
    r.map_err(|p| PolicyError::invalid(field, p))
}

fn non_empty(field: &str, text: &str) -> Result<String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(PolicyError::invalid(field, Problem::Empty));
    }
    Ok(t.to_owned())
}

/// Parses a network name as written in `[vault] network`.
pub fn parse_network(name: &str) -> std::result::Result<Network, Problem> {
    match name {
        "bitcoin" | "mainnet" => Ok(Network::Bitcoin),
        "testnet" | "testnet3" => Ok(Network::Testnet),
        "testnet4" => Ok(Network::Testnet4),
        "signet" => Ok(Network::Signet),
        "regtest" => Ok(Network::Regtest),
        other => Err(Problem::UnknownNetwork(other.to_owned())),
    }
}

fn amount(field: &str, text: &str) -> Result<Amount> {
    at(field, parse_amount(text).map_err(Problem::BadAmount))
}

fn percent(field: &str, value: i64) -> Result<u8> {
    at(
        field,
        u8::try_from(value)
            .ok()
            .filter(|p| *p <= 100)
            .ok_or(Problem::PercentOutOfRange(value)),
    )
}

pub(super) fn validate(file: &PolicyFile) -> Result<VaultPolicy> {
    let name = non_empty("vault.name", &file.vault.name)?;
    let network = at("vault.network", parse_network(file.vault.network.trim()))?;

    let keys = parse_keys(file, network)?;
    let cold = parse_wallet(Tier::Cold, &file.wallets.cold, &keys)?;
    let hot = parse_wallet(Tier::Hot, &file.wallets.hot, &keys)?;
    check_tiers_apart(&cold, &hot, &keys)?;

    let approvers = parse_approvers(file)?;
    let rules = parse_rules(file, network, &approvers)?;

    let cold_descriptor = at("wallets.cold", WalletDescriptor::compile(&cold, &keys))?;
    let hot_descriptor = at("wallets.hot", WalletDescriptor::compile(&hot, &keys))?;

    let mut policy = VaultPolicy {
        name,
        network,
        keys,
        cold,
        hot,
        cold_descriptor,
        hot_descriptor,
        approvers,
        rules,
        id: PolicyId::from_bytes([0; 32]),
    };
    policy.id = PolicyId::of_canonical(&policy.to_file());
    Ok(policy)
}

fn parse_keys(file: &PolicyFile, network: Network) -> Result<BTreeMap<KeyId, VaultKey>> {
    let mut keys = BTreeMap::new();
    let mut seen_xpubs: BTreeMap<bitcoin::secp256k1::PublicKey, KeyId> = BTreeMap::new();
    if file.keys.is_empty() {
        return Err(PolicyError::invalid("keys", Problem::Empty));
    }
    for (i, k) in file.keys.iter().enumerate() {
        let id: KeyId = at(format!("keys[{i}].id"), k.id.trim().parse())?;
        let field = |name: &str| format!("keys.{id}.{name}");
        if keys.contains_key(&id) {
            return Err(PolicyError::invalid(
                field("id"),
                Problem::DuplicateKeyId(id.to_string()),
            ));
        }
        let holder = non_empty(&field("holder"), &k.holder)?;
        let location = non_empty(&field("location"), &k.location)?;
        let xpub: OriginXpub = at(field("xpub"), k.xpub.parse())?;
        let expected = NetworkKind::from(network);
        if xpub.xpub().network != expected {
            let kind = |n: NetworkKind| match n {
                NetworkKind::Main => "mainnet".to_owned(),
                NetworkKind::Test => "a test network".to_owned(),
            };
            return Err(PolicyError::invalid(
                field("xpub"),
                Problem::XpubNetwork {
                    expected: network.to_string(),
                    found: kind(xpub.xpub().network),
                },
            ));
        }
        if let Some(other) = seen_xpubs.insert(xpub.xpub().public_key, id.clone()) {
            return Err(PolicyError::invalid(
                field("xpub"),
                Problem::DuplicateXpub(other.to_string(), id.to_string()),
            ));
        }
        keys.insert(
            id.clone(),
            VaultKey {
                id,
                holder,
                location,
                xpub,
            },
        );
    }
    Ok(keys)
}

fn key_list(field: &str, ids: &[String], keys: &BTreeMap<KeyId, VaultKey>) -> Result<Vec<KeyId>> {
    let mut out = BTreeSet::new();
    if ids.is_empty() {
        return Err(PolicyError::invalid(field, Problem::Empty));
    }
    for id in ids {
        let id: KeyId = at(field, id.trim().parse())?;
        if !keys.contains_key(&id) {
            return Err(PolicyError::invalid(
                field,
                Problem::UnknownKey(id.to_string()),
            ));
        }
        if !out.insert(id.clone()) {
            return Err(PolicyError::invalid(
                field,
                Problem::DuplicateKeyInWallet(id.to_string()),
            ));
        }
    }
    Ok(out.into_iter().collect())
}

fn threshold(field: &str, threshold: i64, keys: usize, script: ScriptKind) -> Result<usize> {
    if threshold < 1 {
        return Err(PolicyError::invalid(field, Problem::ThresholdTooLow));
    }
    if threshold as u64 > keys as u64 {
        return Err(PolicyError::invalid(
            field,
            Problem::ThresholdTooHigh { threshold, keys },
        ));
    }
    if keys > script.max_keys() {
        return Err(PolicyError::invalid(
            field,
            Problem::TooManyKeys {
                keys,
                max: script.max_keys(),
                script: script.to_string(),
            },
        ));
    }
    Ok(threshold as usize)
}

fn parse_wallet(
    tier: Tier,
    w: &WalletSection,
    keys: &BTreeMap<KeyId, VaultKey>,
) -> Result<WalletPolicy> {
    let base = format!("wallets.{tier}");
    let script = match w.script.trim() {
        "wsh" => ScriptKind::Wsh,
        "tr" => ScriptKind::Tr,
        other => {
            return Err(PolicyError::invalid(
                format!("{base}.script"),
                Problem::UnknownScript(other.to_owned()),
            ))
        }
    };
    let ids = key_list(&format!("{base}.keys"), &w.keys, keys)?;
    let k = threshold(&format!("{base}.threshold"), w.threshold, ids.len(), script)?;
    let recovery = w
        .recovery
        .as_ref()
        .map(|r| parse_recovery(&format!("{base}.recovery"), r, script, keys))
        .transpose()?;
    Ok(WalletPolicy {
        tier,
        threshold: k,
        keys: ids,
        script,
        recovery,
    })
}

fn parse_recovery(
    base: &str,
    r: &RecoverySection,
    script: ScriptKind,
    keys: &BTreeMap<KeyId, VaultKey>,
) -> Result<RecoveryPath> {
    let field = format!("{base}.after_blocks");
    let after = r
        .after_blocks
        .ok_or_else(|| PolicyError::invalid(&field, Problem::RecoveryWithoutTimelock))?;
    let after_blocks = u16::try_from(after)
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| PolicyError::invalid(&field, Problem::TimelockOutOfRange(after)))?;
    let ids = key_list(&format!("{base}.keys"), &r.keys, keys)?;
    let k = threshold(&format!("{base}.threshold"), r.threshold, ids.len(), script)?;
    Ok(RecoveryPath {
        after_blocks,
        threshold: k,
        keys: ids,
    })
}

fn check_tiers_apart(
    cold: &WalletPolicy,
    hot: &WalletPolicy,
    keys: &BTreeMap<KeyId, VaultKey>,
) -> Result<()> {
    for w in [cold, hot] {
        let other = if w.tier == Tier::Cold { hot } else { cold };
        for id in &w.keys {
            if other.keys.contains(id) {
                return Err(PolicyError::invalid(
                    "wallets.hot.keys",
                    Problem::KeyInBothTiers(id.to_string()),
                ));
            }
        }
        if let Some(r) = &w.recovery {
            for id in &r.keys {
                if other.uses_key(id) {
                    return Err(PolicyError::invalid(
                        format!("wallets.{}.recovery.keys", w.tier),
                        Problem::RecoveryKeyOfOtherTier(id.to_string()),
                    ));
                }
            }
        }
    }
    for id in keys.keys() {
        if !cold.uses_key(id) && !hot.uses_key(id) {
            return Err(PolicyError::invalid(
                format!("keys.{id}"),
                Problem::UnusedKey(id.to_string()),
            ));
        }
    }
    Ok(())
}

fn parse_approvers(file: &PolicyFile) -> Result<BTreeMap<ApproverId, Approver>> {
    let mut approvers = BTreeMap::new();
    let mut seen: BTreeMap<XOnlyPublicKey, ApproverId> = BTreeMap::new();
    for (i, a) in file.approvers.iter().enumerate() {
        let id: ApproverId = at(format!("approvers[{i}].id"), a.id.trim().parse())?;
        let field = |name: &str| format!("approvers.{id}.{name}");
        if approvers.contains_key(&id) {
            return Err(PolicyError::invalid(
                field("id"),
                Problem::DuplicateApprover(id.to_string()),
            ));
        }
        let department = non_empty(&field("department"), &a.department)?;
        let pubkey = at(
            field("pubkey"),
            XOnlyPublicKey::from_str(a.pubkey.trim())
                .map_err(|e| Problem::BadApproverKey(e.to_string())),
        )?;
        if let Some(other) = seen.insert(pubkey, id.clone()) {
            return Err(PolicyError::invalid(
                field("pubkey"),
                Problem::DuplicateApproverKey(other.to_string(), id.to_string()),
            ));
        }
        approvers.insert(
            id.clone(),
            Approver {
                id,
                department,
                pubkey,
            },
        );
    }
    Ok(approvers)
}

fn capped(base: &str, max: &str, daily: &str) -> Result<(Amount, Amount)> {
    let max_amount = amount(&format!("{base}.max_amount"), max)?;
    let daily_limit = amount(&format!("{base}.daily_limit"), daily)?;
    if max_amount > daily_limit {
        return Err(PolicyError::invalid(
            format!("{base}.max_amount"),
            Problem::MaxAboveDaily {
                max: max.trim().to_owned(),
                daily: daily.trim().to_owned(),
            },
        ));
    }
    Ok((max_amount, daily_limit))
}

fn parse_rules(
    file: &PolicyFile,
    network: Network,
    approvers: &BTreeMap<ApproverId, Approver>,
) -> Result<Rules> {
    let c = &file.rules.cold_to_hot;
    let base = "rules.cold_to_hot";
    let departments: BTreeSet<&str> = approvers.values().map(|a| a.department.as_str()).collect();
    if c.min_approvals < 1 {
        return Err(PolicyError::invalid(
            format!("{base}.min_approvals"),
            Problem::QuorumImpossible(
                "cold→hot movements need at least 1 approval; set min_approvals to 1 or more"
                    .into(),
            ),
        ));
    }
    if c.min_approvals as u64 > approvers.len() as u64 {
        return Err(PolicyError::invalid(
            format!("{base}.min_approvals"),
            Problem::QuorumImpossible(format!(
                "{} approvals are required but only {} approvers are listed; add [[approvers]] or lower min_approvals",
                c.min_approvals,
                approvers.len()
            )),
        ));
    }
    if c.min_departments < 1 || c.min_departments as u64 > departments.len() as u64 {
        return Err(PolicyError::invalid(
            format!("{base}.min_departments"),
            Problem::QuorumImpossible(format!(
                "{} departments are required but the approvers come from {} ({}); use 1 to {} or add approvers from other departments",
                c.min_departments,
                departments.len(),
                departments.iter().copied().collect::<Vec<_>>().join(", "),
                departments.len()
            )),
        ));
    }
    if c.min_departments > c.min_approvals {
        return Err(PolicyError::invalid(
            format!("{base}.min_departments"),
            Problem::QuorumImpossible(format!(
                "{} departments cannot be reached with {} approvals; raise min_approvals to at least min_departments",
                c.min_departments, c.min_approvals
            )),
        ));
    }
    let (max_amount, daily_limit) = capped(base, &c.max_amount, &c.daily_limit)?;
    let cold_to_hot = ColdToHotRule {
        min_approvals: c.min_approvals as usize,
        min_departments: c.min_departments as usize,
        max_amount,
        daily_limit,
    };

    let p = &file.rules.payouts;
    let base = "rules.payouts";
    let destinations = if p.allow_any {
        if !p.allowlist.is_empty() {
            return Err(PolicyError::invalid(
                format!("{base}.allow_any"),
                Problem::AllowlistAndAllowAny,
            ));
        }
        PayoutDestinations::AnyAddress
    } else {
        let field = format!("{base}.allowlist");
        let mut list = BTreeSet::new();
        for text in &p.allowlist {
            let text = text.trim();
            let unchecked: Address<NetworkUnchecked> =
                text.parse().map_err(|e: bitcoin::address::ParseError| {
                    PolicyError::invalid(
                        &field,
                        Problem::BadAddress(text.to_owned(), e.to_string()),
                    )
                })?;
            let address = unchecked.require_network(network).map_err(|_| {
                PolicyError::invalid(
                    &field,
                    Problem::AddressNetwork {
                        address: text.to_owned(),
                        network: network.to_string(),
                    },
                )
            })?;
            if !list.insert(address.to_string()) {
                return Err(PolicyError::invalid(
                    &field,
                    Problem::DuplicateAddress(text.to_owned()),
                ));
            }
        }
        PayoutDestinations::Allowlist(
            list.into_iter()
                .map(|a| {
                    a.parse::<Address<NetworkUnchecked>>()
                        .expect("re-parsing a checked address")
                        .assume_checked()
                })
                .collect(),
        )
    };
    let (max_amount, daily_limit) = capped(base, &p.max_amount, &p.daily_limit)?;
    let payouts = PayoutRule {
        destinations,
        max_amount,
        daily_limit,
    };

    let f = &file.rules.fees;
    let fees = FeeRule {
        max_feerate: at(
            "rules.fees.max_feerate",
            FeeRateLimit::from_str(&f.max_feerate).map_err(Problem::BadAmount),
        )?,
        max_fee: amount("rules.fees.max_fee", &f.max_fee)?,
    };

    let r = &file.rules.ratio;
    let cold_min = percent("rules.ratio.cold_min_percent", r.cold_min_percent)?;
    let hot_target = match r.hot_target_percent {
        Some(t) => percent("rules.ratio.hot_target_percent", t)?,
        None => (100 - cold_min) / 2,
    };
    if u16::from(hot_target) + u16::from(cold_min) > 100 {
        return Err(PolicyError::invalid(
            "rules.ratio.hot_target_percent",
            Problem::HotTargetTooHigh {
                target: hot_target.into(),
                cold_min: cold_min.into(),
            },
        ));
    }
    let ratio = RatioRule {
        cold_min_percent: cold_min,
        hot_target_percent: hot_target,
    };
    Ok(Rules {
        cold_to_hot,
        payouts,
        fees,
        ratio,
    })
}

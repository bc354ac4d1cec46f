//! From the policy file as written to a [`VaultPolicy`] that cannot hold an
//! invalid value. The first problem found is reported, with its field.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use bitcoin::bip32::ChildNumber;
use bitcoin::secp256k1::XOnlyPublicKey;
use bitcoin::{Network, NetworkKind};

mod rules_section;

use super::descriptor::WalletDescriptor;
use super::error::{PolicyError, Problem};
use super::file::{PolicyFile, RecoverySection, WalletSection};
use super::id::PolicyId;
use super::ids::{ApproverId, KeyId};
use super::keys::{Approver, KeySigner, OriginXpub, VaultKey};
use super::wallet::{RecoveryPath, ScriptKind, Tier, WalletPolicy};
use super::VaultPolicy;

type Result<T> = std::result::Result<T, PolicyError>;

fn at<T, E: Into<Problem>>(field: impl Into<String>, r: std::result::Result<T, E>) -> Result<T> {
    r.map_err(|p| PolicyError::invalid(field, p.into()))
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

pub(super) fn validate(file: &PolicyFile) -> Result<VaultPolicy> {
    let name = non_empty("vault.name", &file.vault.name)?;
    let network = at("vault.network", parse_network(file.vault.network.trim()))?;

    let keys = parse_keys(file, network)?;
    let cold = parse_wallet(Tier::Cold, &file.wallets.cold, &keys)?;
    let hot = parse_wallet(Tier::Hot, &file.wallets.hot, &keys)?;
    check_tiers_apart(&cold, &hot, &keys)?;

    let approvers = parse_approvers(file)?;
    let rules = rules_section::parse_rules(file, network, &approvers)?;

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
                Problem::DuplicateKeyId(id.clone()),
            ));
        }
        let holder = non_empty(&field("holder"), &k.holder)?;
        let location = non_empty(&field("location"), &k.location)?;
        let xpub: OriginXpub = at(field("xpub"), k.xpub.parse())?;
        let expected = NetworkKind::from(network);
        if xpub.xpub().network != expected {
            return Err(PolicyError::invalid(
                field("xpub"),
                Problem::XpubNetwork {
                    expected: network,
                    found: xpub.xpub().network,
                },
            ));
        }
        check_coin_type(&field("xpub"), &xpub, network)?;
        let signer = match k.signer.as_deref().map(str::trim) {
            None | Some("custodia") => KeySigner::Custodia,
            Some("device") => KeySigner::Device,
            Some(other) => {
                return Err(PolicyError::invalid(
                    field("signer"),
                    Problem::UnknownSigner(other.to_owned()),
                ))
            }
        };
        if let Some(other) = seen_xpubs.insert(xpub.xpub().public_key, id.clone()) {
            return Err(PolicyError::invalid(
                field("xpub"),
                Problem::DuplicateXpub(other, id.clone()),
            ));
        }
        keys.insert(
            id.clone(),
            VaultKey {
                id,
                holder,
                location,
                xpub,
                signer,
            },
        );
    }
    Ok(keys)
}

/// The origin's second step is the coin type: 0' for bitcoin, 1' for every
/// test network. A key of the wrong coin type is a key made for another
/// network, whatever its version bytes say; an origin too short to carry
/// one cannot be checked and is refused.
fn check_coin_type(field: &str, xpub: &OriginXpub, network: Network) -> Result<()> {
    let expected = super::bip48_coin_type(network);
    match xpub.path().as_ref().get(1) {
        Some(ChildNumber::Hardened { index }) if *index == expected => Ok(()),
        found => Err(PolicyError::invalid(
            field,
            Problem::CoinType {
                network,
                expected,
                found: found.map_or("missing".to_owned(), |c| c.to_string()),
            },
        )),
    }
}

/// No two keys of one key list share a master fingerprint: one seed, one
/// signature per wallet.
fn check_one_key_per_seed(
    field: &str,
    ids: &[KeyId],
    keys: &BTreeMap<KeyId, VaultKey>,
) -> Result<()> {
    let mut seen: BTreeMap<bitcoin::bip32::Fingerprint, &KeyId> = BTreeMap::new();
    for id in ids {
        let fingerprint = keys[id].xpub.fingerprint();
        if let Some(first) = seen.insert(fingerprint, id) {
            return Err(PolicyError::invalid(
                field,
                Problem::SharedSeedInWallet(first.clone(), id.clone(), fingerprint),
            ));
        }
    }
    Ok(())
}

fn key_list(field: &str, ids: &[String], keys: &BTreeMap<KeyId, VaultKey>) -> Result<Vec<KeyId>> {
    let mut out = BTreeSet::new();
    if ids.is_empty() {
        return Err(PolicyError::invalid(field, Problem::Empty));
    }
    for id in ids {
        let id: KeyId = at(field, id.trim().parse())?;
        if !keys.contains_key(&id) {
            return Err(PolicyError::invalid(field, Problem::UnknownKey(id)));
        }
        if !out.insert(id.clone()) {
            return Err(PolicyError::invalid(
                field,
                Problem::DuplicateKeyInWallet(id.clone()),
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
                script,
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
    check_one_key_per_seed(&format!("{base}.keys"), &ids, keys)?;
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
    check_one_key_per_seed(&format!("{base}.keys"), &ids, keys)?;
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
                    Problem::KeyInBothTiers(id.clone()),
                ));
            }
        }
        if let Some(r) = &w.recovery {
            for id in &r.keys {
                if other.uses_key(id) {
                    return Err(PolicyError::invalid(
                        format!("wallets.{}.recovery.keys", w.tier),
                        Problem::RecoveryKeyOfOtherTier(id.clone()),
                    ));
                }
            }
        }
    }
    for id in keys.keys() {
        if !cold.uses_key(id) && !hot.uses_key(id) {
            return Err(PolicyError::invalid(
                format!("keys.{id}"),
                Problem::UnusedKey(id.clone()),
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
                Problem::DuplicateApprover(id),
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
                Problem::DuplicateApproverKey(other, id.clone()),
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

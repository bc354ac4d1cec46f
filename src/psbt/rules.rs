//! The rules a PSBT must pass before any signer signs it, each judged with a
//! reason a person understands. The coordinator applies the same functions,
//! so an operator learns of a refusal before carrying a PSBT to a signer.

use bitcoin::{Amount, NetworkKind, Psbt};
use serde::Serialize;

use super::anomalies;
use super::classify::Destination;
use super::daily::{allowance, counted_amount, daily_limit, LimitScope};
use super::fields::{policy_tag, PolicyTag};
use super::movement::Movement;
use super::review::{btc, Review};
use crate::policy::{Tier, VaultPolicy};

/// Names of the rules, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleId {
    /// The PSBT names the policy it is reviewed against.
    PolicyId,
    /// Nothing in the PSBT belongs to another network.
    Network,
    /// Every input re-derives to a wallet of the policy.
    InputsFromVault,
    /// All inputs come from one wallet.
    OneWallet,
    /// Previous outputs are proven (full previous transactions for segwit v0).
    PreviousOutputs,
    /// Only SIGHASH_ALL / DEFAULT.
    Sighash,
    /// Taproot inputs use the policy's unspendable internal key and tree.
    Taproot,
    /// No output falsely claims to be in the vault.
    OutputClaims,
    /// Every vault input and output lies within the policy's address range.
    AddressRange,
    /// Cold pays no outside address; hot pays only allowlisted ones.
    Destinations,
    /// Amount limits per transaction.
    Amount,
    /// Daily limits over a rolling 24 hours, from the signer's own log.
    DailyLimit,
    /// Absolute fee cap.
    Fee,
    /// Fee rate cap.
    FeeRate,
    /// Cold→hot approvals quorum.
    Approvals,
    /// No output is zero, dust or beyond the money supply; amounts add up
    /// without overflow.
    OutputValues,
    /// nLockTime is 0 or a block height, never a date.
    LockTime,
    /// No input's nSequence sets a BIP-68 relative lock.
    RelativeLock,
}

impl RuleId {
    /// Every rule, in report order.
    pub const ALL: [RuleId; 18] = [
        RuleId::PolicyId,
        RuleId::Network,
        RuleId::InputsFromVault,
        RuleId::OneWallet,
        RuleId::PreviousOutputs,
        RuleId::Sighash,
        RuleId::Taproot,
        RuleId::OutputClaims,
        RuleId::AddressRange,
        RuleId::Destinations,
        RuleId::Amount,
        RuleId::DailyLimit,
        RuleId::Fee,
        RuleId::FeeRate,
        RuleId::Approvals,
        RuleId::OutputValues,
        RuleId::LockTime,
        RuleId::RelativeLock,
    ];

    /// Machine name, e.g. `daily-limit`.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::PolicyId => "policy-id",
            RuleId::Network => "network",
            RuleId::InputsFromVault => "inputs-from-vault",
            RuleId::OneWallet => "one-wallet",
            RuleId::PreviousOutputs => "previous-outputs",
            RuleId::Sighash => "sighash",
            RuleId::Taproot => "taproot",
            RuleId::OutputClaims => "output-claims",
            RuleId::AddressRange => "address-range",
            RuleId::Destinations => "destinations",
            RuleId::Amount => "amount",
            RuleId::DailyLimit => "daily-limit",
            RuleId::Fee => "fee",
            RuleId::FeeRate => "fee-rate",
            RuleId::Approvals => "approvals",
            RuleId::OutputValues => "output-values",
            RuleId::LockTime => "lock-time",
            RuleId::RelativeLock => "relative-lock",
        }
    }
}

/// The judgement of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleCheck {
    /// Which rule.
    pub rule: RuleId,
    /// Whether it holds.
    pub passed: bool,
    /// Why, in words.
    pub reason: String,
}

fn judge(rule: RuleId, passed: bool, reason: impl Into<String>) -> RuleCheck {
    RuleCheck {
        rule,
        passed,
        reason: reason.into(),
    }
}

/// Judges every rule for a review whose facts are filled in.
pub(crate) fn evaluate(policy: &VaultPolicy, psbt: &Psbt, r: &Review) -> Vec<RuleCheck> {
    RuleId::ALL
        .into_iter()
        .map(|rule| match rule {
            RuleId::PolicyId => policy_id(policy, psbt),
            RuleId::Network => network(policy, psbt),
            RuleId::OneWallet => one_wallet(r),
            RuleId::OutputClaims => output_claims(r),
            RuleId::AddressRange => address_range(policy, r),
            RuleId::Destinations => destinations(r),
            RuleId::Amount => amount(policy, r),
            RuleId::DailyLimit => daily(policy, r),
            RuleId::Fee => fee(policy, r),
            RuleId::FeeRate => fee_rate(policy, r),
            RuleId::Approvals => approvals(policy, r),
            RuleId::OutputValues => anomalies::output_values(psbt, r),
            RuleId::LockTime => anomalies::lock_time(r),
            RuleId::RelativeLock => anomalies::relative_lock(r),
            per_input => from_findings(per_input, r),
        })
        .collect()
}

fn from_findings(rule: RuleId, r: &Review) -> RuleCheck {
    let bad: Vec<String> = r
        .inputs
        .iter()
        .flat_map(|i| {
            i.findings
                .iter()
                .filter(|f| f.rule == rule)
                .map(move |f| format!("input {}: {}", i.index, f.reason))
        })
        .collect();
    if !bad.is_empty() {
        return judge(rule, false, bad.join("; "));
    }
    let ok = match rule {
        RuleId::InputsFromVault => "every input re-derives to a vault wallet",
        RuleId::PreviousOutputs => "every spent output is proven by the PSBT",
        RuleId::Sighash => "every input signs with SIGHASH_ALL or DEFAULT",
        RuleId::Taproot => "taproot inputs use the policy's unspendable key and tree",
        _ => "holds",
    };
    judge(rule, true, ok)
}

fn policy_id(policy: &VaultPolicy, psbt: &Psbt) -> RuleCheck {
    let rule = RuleId::PolicyId;
    match policy_tag(psbt) {
        PolicyTag::Present(id) if id == policy.id() => {
            judge(rule, true, format!("names policy {} ({})", id.short(), policy.name()))
        }
        PolicyTag::Present(id) => judge(
            rule,
            false,
            format!(
                "names policy {}, not {} ({}) it is reviewed against; use the signer that registered that policy",
                id.short(),
                policy.id().short(),
                policy.name()
            ),
        ),
        PolicyTag::Missing => judge(
            rule,
            false,
            "names no policy; have the coordinator tag the PSBT with its policy id",
        ),
        PolicyTag::Malformed => judge(rule, false, "its policy id field is malformed"),
    }
}

fn network(policy: &VaultPolicy, psbt: &Psbt) -> RuleCheck {
    let want = NetworkKind::from(policy.network());
    let wrong = psbt.xpub.keys().filter(|x| x.network != want).count();
    if wrong > 0 {
        return judge(
            RuleId::Network,
            false,
            format!(
                "{wrong} global xpub(s) are for another network than the policy's {}",
                policy.network()
            ),
        );
    }
    judge(
        RuleId::Network,
        true,
        format!(
            "nothing in the PSBT contradicts the policy's network {}",
            policy.network()
        ),
    )
}

fn one_wallet(r: &Review) -> RuleCheck {
    let rule = RuleId::OneWallet;
    if r.inputs.is_empty() {
        return judge(rule, false, "the transaction has no inputs");
    }
    match r.source {
        Some(t) => judge(rule, true, format!("all inputs come from the {t} wallet")),
        None if r.inputs.iter().any(|i| i.owner.is_none()) => {
            judge(rule, false, "some inputs are not from the vault")
        }
        None => judge(
            rule,
            false,
            "inputs come from both wallets; spend one wallet at a time",
        ),
    }
}

fn output_claims(r: &Review) -> RuleCheck {
    let bad: Vec<String> = r
        .outputs
        .iter()
        .filter(|o| o.false_claim)
        .map(|o| o.index.to_string())
        .collect();
    if bad.is_empty() {
        judge(
            RuleId::OutputClaims,
            true,
            "no output falsely claims a vault derivation",
        )
    } else {
        judge(
            RuleId::OutputClaims,
            false,
            format!(
                "output(s) {} claim a vault derivation but their script is not the vault's (swapped change?)",
                bad.join(", ")
            ),
        )
    }
}

/// Funds beyond the policy's `max_index` would be signed into place yet
/// missing from the coordinator's balances, the cold ratio and the audit,
/// which all watch up to that index and no further.
fn address_range(policy: &VaultPolicy, r: &Review) -> RuleCheck {
    let rule = RuleId::AddressRange;
    let range = policy.rules().addresses();
    let inputs = r
        .inputs
        .iter()
        .filter_map(|i| i.owner.map(|at| (format!("input {}", i.index), at)));
    let outputs = r
        .outputs
        .iter()
        .filter_map(|o| o.owner.map(|at| (format!("output {}", o.index), at)));
    let beyond: Vec<String> = inputs
        .chain(outputs)
        .filter(|(_, at)| !range.contains(at.index))
        .map(|(what, at)| format!("{what} is {} index {}", at.tier, at.index))
        .collect();
    if beyond.is_empty() {
        return judge(
            rule,
            true,
            format!(
                "every vault address is at index {} or below",
                range.max_index()
            ),
        );
    }
    judge(
        rule,
        false,
        format!(
            "{}, beyond the policy's max_index {}: nobody watches funds there; have the coordinator use an address in range, or adopt a policy with a higher max_index",
            beyond.join("; "),
            range.max_index()
        ),
    )
}

fn destinations(r: &Review) -> RuleCheck {
    let rule = RuleId::Destinations;
    let external: Vec<_> = r
        .outputs
        .iter()
        .filter_map(|o| match o.destination {
            Destination::External { allowlisted } => Some((o, allowlisted)),
            Destination::Vault { .. } => None,
        })
        .collect();
    match r.source {
        None => judge(
            rule,
            false,
            "cannot be judged: the inputs are not from one vault wallet",
        ),
        Some(Tier::Cold) if !external.is_empty() => judge(
            rule,
            false,
            format!(
                "the cold wallet may pay only vault wallets; output(s) {} go outside",
                external
                    .iter()
                    .map(|(o, _)| o.index.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Some(Tier::Hot) if external.iter().any(|(_, ok)| !ok) => judge(
            rule,
            false,
            format!(
                "output(s) {} pay addresses not on the payout allowlist",
                external
                    .iter()
                    .filter(|(_, ok)| !ok)
                    .map(|(o, _)| format!(
                        "{} ({})",
                        o.index,
                        o.address.as_deref().unwrap_or("non-standard script")
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Some(t) if external.is_empty() => judge(rule, true, format!("{t} pays only vault wallets")),
        Some(_) => judge(
            rule,
            true,
            "every outside destination is on the payout allowlist",
        ),
    }
}

fn amount(policy: &VaultPolicy, r: &Review) -> RuleCheck {
    let rule = RuleId::Amount;
    let moved = Amount::from_sat(r.moved_sat);
    match r.movement {
        None => judge(rule, false, "cannot be judged without a movement kind"),
        Some(Movement::ColdToHot) => {
            let max = policy.rules().cold_to_hot().max_amount();
            judge(
                rule,
                moved <= max,
                format!(
                    "moves {} to hot; the cold→hot limit is {}",
                    btc(moved),
                    btc(max)
                ),
            )
        }
        Some(Movement::HotPayout) => {
            // The cap binds the transaction's whole payout, not each output:
            // twenty outputs under the cap to one address are twenty times it.
            let max = policy.rules().payouts().max_amount();
            let outputs = r
                .outputs
                .iter()
                .filter(|o| matches!(o.destination, Destination::External { .. }))
                .count();
            judge(
                rule,
                moved <= max,
                format!(
                    "pays {} outside in {outputs} output(s); the payout limit per transaction is {}",
                    btc(moved),
                    btc(max)
                ),
            )
        }
        Some(m) => judge(
            rule,
            true,
            format!("no amount limit applies to a {}", m.describe()),
        ),
    }
}

pub(crate) fn daily(policy: &VaultPolicy, r: &Review) -> RuleCheck {
    let rule = RuleId::DailyLimit;
    let Some(movement) = r.movement else {
        return judge(rule, false, "cannot be judged without a movement kind");
    };
    let fee = match r.fee_sat {
        Some(f) if f >= 0 => Amount::from_sat(f.unsigned_abs()),
        _ => return judge(rule, false, "cannot be judged: the fee is unknown"),
    };
    let tier = movement.source();
    let this = counted_amount(movement, r.moved(), fee);
    let before = r.spending.total(tier, r.txid);
    let total = before.checked_add(this).unwrap_or(Amount::MAX);
    let allowed = allowance(policy, tier, r.spending.scope);
    let limit = daily_limit(policy, tier);
    let whose = match r.spending.scope {
        LimitScope::Wallet => format!("the {tier} daily limit is {}", btc(limit)),
        LimitScope::Signer => {
            let w = policy.wallet(tier);
            format!(
                "this key holder's share of the {tier} daily limit {} is {} ({} of {} keys sign each transaction, so all key holders together stay within the limit)",
                btc(limit),
                btc(allowed),
                w.threshold(),
                w.keys().len()
            )
        }
    };
    judge(
        rule,
        total <= allowed,
        format!(
            "{} counted from {tier} in the last 24 hours plus {} (amount and fee) is {}; {whose}",
            btc(before),
            btc(this),
            btc(total),
        ),
    )
}

fn fee(policy: &VaultPolicy, r: &Review) -> RuleCheck {
    let rule = RuleId::Fee;
    let max = policy.rules().fees().max_fee();
    match r.fee_sat {
        None => judge(
            rule,
            false,
            "the fee is unknown: not every spent output is proven",
        ),
        Some(f) if f < 0 => judge(rule, false, "the outputs pay more than the inputs hold"),
        Some(f) => {
            let f = Amount::from_sat(f.unsigned_abs());
            judge(
                rule,
                f <= max,
                format!("fee {}; the cap is {}", btc(f), btc(max)),
            )
        }
    }
}

fn fee_rate(policy: &VaultPolicy, r: &Review) -> RuleCheck {
    let rule = RuleId::FeeRate;
    let cap = policy.rules().fees().max_feerate();
    match r.fee_sat {
        Some(f) if f >= 0 => {
            let f = Amount::from_sat(f.unsigned_abs());
            judge(
                rule,
                cap.allows(f, r.vsize),
                format!(
                    "{:.1} sat/vB at {} vB (largest signed size); the cap is {cap}",
                    f.to_sat() as f64 / r.vsize.max(1) as f64,
                    r.vsize
                ),
            )
        }
        _ => judge(rule, false, "the fee rate is unknown"),
    }
}

fn approvals(policy: &VaultPolicy, r: &Review) -> RuleCheck {
    let rule = RuleId::Approvals;
    match (r.movement, &r.approvals) {
        (Some(Movement::ColdToHot), Some(status)) => {
            let c = policy.rules().cold_to_hot();
            let departments = match status.departments.is_empty() {
                true => String::new(),
                false => format!(
                    " ({})",
                    status
                        .departments
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let reason = format!(
                "{} valid approval(s) from {} department(s){departments}; needs {} from {}",
                status.valid_approvers.len(),
                status.departments.len(),
                c.min_approvals(),
                c.min_departments()
            );
            judge(
                rule,
                status.meets(c.min_approvals(), c.min_departments()),
                reason,
            )
        }
        (Some(m), _) => judge(rule, true, format!("a {} needs no approvals", m.describe())),
        (None, _) => judge(rule, false, "cannot be judged without a movement kind"),
    }
}

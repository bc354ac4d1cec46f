//! The judge: runs every rule over a review's facts. The policy's rules are
//! checked by the functions in `policy::rules`, which the coordinator and
//! the auditor call too; the rules about the PSBT itself (it names the
//! policy, proves its inputs, claims no false change) are judged here.

use bitcoin::{Amount, NetworkKind, Psbt};

use super::anomalies;
use super::classify::Destination;
use super::fields::{is_compact, policy_tag, PolicyTag};
use super::proof;
use super::review::Review;
use crate::policy::rules::{
    check_address_range, check_amount, check_approvals, check_daily, check_destinations, check_fee,
    check_fee_rate, judge, OutsidePayment, RuleCheck, RuleId, VaultAddressUse,
};
use crate::policy::VaultPolicy;

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
            RuleId::Destinations if r.movement.is_some_and(|m| m.is_proof()) => {
                proof::check_outputs(&r.outputs, r.input_total_sat)
            }
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
    // A compact PSBT names its policy only to be re-filled against it: its
    // derivations are missing, so a review of it would judge a PSBT that
    // is not the one the coordinator made.
    if is_compact(psbt) {
        return judge(
            rule,
            false,
            "is a compact PSBT (stripped for a QR transfer); re-fill it against the registered policy before review",
        );
    }
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

fn address_range(policy: &VaultPolicy, r: &Review) -> RuleCheck {
    let inputs = r.inputs.iter().filter_map(|i| {
        i.owner
            .map(|at| (format!("input {}", i.index), at.tier, at.index))
    });
    let outputs = r.outputs.iter().filter_map(|o| {
        o.owner
            .map(|at| (format!("output {}", o.index), at.tier, at.index))
    });
    let uses: Vec<VaultAddressUse> = inputs
        .chain(outputs)
        .map(|(place, tier, index)| VaultAddressUse { place, tier, index })
        .collect();
    check_address_range(policy.rules().addresses(), &uses)
}

fn destinations(r: &Review) -> RuleCheck {
    let outside: Vec<OutsidePayment> = r
        .outputs
        .iter()
        .filter_map(|o| match o.destination {
            Destination::External { allowlisted } => Some(OutsidePayment {
                output: o.index,
                address: o.address.clone(),
                allowed: allowlisted,
            }),
            // Only a whole migration pays the successor.
            Destination::Successor { .. } if r.movement.is_some_and(|m| m.is_migration()) => None,
            Destination::Successor { .. } => Some(OutsidePayment {
                output: o.index,
                address: o.address.clone(),
                allowed: false,
            }),
            Destination::Vault { .. } => None,
        })
        .collect();
    check_destinations(r.source, &outside)
}

fn amount(policy: &VaultPolicy, r: &Review) -> RuleCheck {
    let outside = r
        .outputs
        .iter()
        .filter(|o| !matches!(o.destination, Destination::Vault { .. }))
        .count();
    check_amount(policy, r.movement, r.moved(), outside)
}

/// The daily limit on the review's own count of the last 24 hours.
pub(crate) fn daily(policy: &VaultPolicy, r: &Review) -> RuleCheck {
    let before = match r.movement {
        Some(m) => r.spending.total(m.source(), r.txid),
        None => Amount::ZERO,
    };
    check_daily(
        policy,
        r.movement,
        r.moved(),
        r.fee(),
        before,
        r.spending.scope,
    )
}

fn fee(policy: &VaultPolicy, r: &Review) -> RuleCheck {
    check_fee(policy.rules().fees(), r.fee())
}

fn fee_rate(policy: &VaultPolicy, r: &Review) -> RuleCheck {
    check_fee_rate(policy.rules().fees(), r.fee(), r.vsize)
}

fn approvals(policy: &VaultPolicy, r: &Review) -> RuleCheck {
    let (approvers, departments) = match &r.approvals {
        Some(status) => (status.valid_approvers.len(), status.departments.clone()),
        None => (0, Default::default()),
    };
    check_approvals(
        policy.rules().cold_to_hot(),
        r.movement,
        approvers,
        &departments,
    )
}

//! Parsing the `[rules]` section: approval quorum, limits, allowlist, fees,
//! ratio, address range. The rules themselves live in `policy::rules`.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use bitcoin::address::NetworkUnchecked;
use bitcoin::{Address, Amount, Network};

use super::{at, PolicyError, Problem};
use crate::policy::file::PolicyFile;
use crate::policy::ids::ApproverId;
use crate::policy::keys::Approver;
use crate::policy::rules::{
    AddressRule, ColdToHotRule, FeeRule, PayoutDestinations, PayoutRule, PolicyChangeRule,
    RatioRule, Rules,
};
use crate::policy::units::{parse_amount, FeeRateLimit};

type Result<T> = std::result::Result<T, PolicyError>;

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

fn capped(base: &str, max: &str, daily: &str) -> Result<(Amount, Amount)> {
    let max_amount = amount(&format!("{base}.max_amount"), max)?;
    let daily_limit = amount(&format!("{base}.daily_limit"), daily)?;
    if max_amount > daily_limit {
        return Err(PolicyError::invalid(
            format!("{base}.max_amount"),
            Problem::MaxAboveDaily {
                max: max_amount,
                daily: daily_limit,
            },
        ));
    }
    Ok((max_amount, daily_limit))
}

/// Checks an approval quorum (`min_approvals` from `min_departments`) can be
/// met by the policy's approvers.
fn quorum(
    base: &str,
    what: &str,
    min_approvals: i64,
    min_departments: i64,
    approvers: &BTreeMap<ApproverId, Approver>,
) -> Result<()> {
    let departments: BTreeSet<&str> = approvers.values().map(|a| a.department.as_str()).collect();
    if min_approvals < 1 {
        return Err(PolicyError::invalid(
            format!("{base}.min_approvals"),
            Problem::QuorumImpossible(format!(
                "{what} need at least 1 approval; set min_approvals to 1 or more"
            )),
        ));
    }
    if min_approvals as u64 > approvers.len() as u64 {
        return Err(PolicyError::invalid(
            format!("{base}.min_approvals"),
            Problem::QuorumImpossible(format!(
                "{} approvals are required but only {} approvers are listed; add [[approvers]] or lower min_approvals",
                min_approvals,
                approvers.len()
            )),
        ));
    }
    if min_departments < 1 || min_departments as u64 > departments.len() as u64 {
        return Err(PolicyError::invalid(
            format!("{base}.min_departments"),
            Problem::QuorumImpossible(format!(
                "{} departments are required but the approvers come from {} ({}); use 1 to {} or add approvers from other departments",
                min_departments,
                departments.len(),
                departments.iter().copied().collect::<Vec<_>>().join(", "),
                departments.len()
            )),
        ));
    }
    if min_departments > min_approvals {
        return Err(PolicyError::invalid(
            format!("{base}.min_departments"),
            Problem::QuorumImpossible(format!(
                "{} departments cannot be reached with {} approvals; raise min_approvals to at least min_departments",
                min_departments, min_approvals
            )),
        ));
    }
    Ok(())
}

pub(super) fn parse_rules(
    file: &PolicyFile,
    network: Network,
    approvers: &BTreeMap<ApproverId, Approver>,
) -> Result<Rules> {
    let c = &file.rules.cold_to_hot;
    let base = "rules.cold_to_hot";
    quorum(
        base,
        "cold→hot movements",
        c.min_approvals,
        c.min_departments,
        approvers,
    )?;
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
                    PolicyError::invalid(&field, Problem::BadAddress(text.to_owned(), e))
                })?;
            let address = unchecked.clone().require_network(network).map_err(|_| {
                PolicyError::invalid(
                    &field,
                    Problem::AddressNetwork {
                        address: unchecked,
                        network,
                    },
                )
            })?;
            if !list.insert(address.to_string()) {
                return Err(PolicyError::invalid(
                    &field,
                    Problem::DuplicateAddress(address.clone()),
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
    let addresses = match &file.rules.addresses {
        None => AddressRule {
            max_index: AddressRule::DEFAULT_MAX_INDEX,
        },
        Some(a) => AddressRule {
            max_index: at(
                "rules.addresses.max_index",
                u32::try_from(a.max_index)
                    .ok()
                    .filter(|i| *i <= AddressRule::MAX_INDEX_CEILING)
                    .ok_or(Problem::MaxIndexOutOfRange(a.max_index)),
            )?,
        },
    };
    let policy_change = match &file.rules.policy_change {
        None => None,
        Some(c) => {
            let base = "rules.policy_change";
            quorum(
                base,
                "policy changes",
                c.min_approvals,
                c.min_departments,
                approvers,
            )?;
            let wait_blocks = at(
                format!("{base}.wait_blocks"),
                u32::try_from(c.wait_blocks)
                    .ok()
                    .filter(|w| *w <= PolicyChangeRule::MAX_WAIT_BLOCKS)
                    .ok_or(Problem::WaitOutOfRange(c.wait_blocks)),
            )?;
            Some(PolicyChangeRule {
                min_approvals: c.min_approvals as usize,
                min_departments: c.min_departments as usize,
                wait_blocks,
            })
        }
    };
    Ok(Rules {
        cold_to_hot,
        payouts,
        fees,
        ratio,
        addresses,
        policy_change,
    })
}

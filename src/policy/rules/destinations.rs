//! Where each tier may pay: cold only to the vault's wallets, hot to the
//! vault and to allowlisted addresses (or any address, when the policy says
//! so).

use bitcoin::{Address, Amount};

use crate::policy::Tier;

use super::verdict::{judge, RuleCheck, RuleId};

/// Where the hot wallet may pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutDestinations {
    /// Only these addresses (sorted).
    Allowlist(Vec<Address>),
    /// Any address, each payout capped by `max_amount`.
    AnyAddress,
}

/// Limits for payouts from hot to outside addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutRule {
    pub(crate) destinations: PayoutDestinations,
    pub(crate) max_amount: Amount,
    pub(crate) daily_limit: Amount,
}

impl PayoutRule {
    /// Allowed destinations.
    pub fn destinations(&self) -> &PayoutDestinations {
        &self.destinations
    }
    /// Whether the hot wallet may pay `address`.
    pub fn allows(&self, address: &Address) -> bool {
        match &self.destinations {
            PayoutDestinations::AnyAddress => true,
            PayoutDestinations::Allowlist(list) => list.contains(address),
        }
    }
    /// Largest single payout.
    pub fn max_amount(&self) -> Amount {
        self.max_amount
    }
    /// Largest total in any 24 hours.
    pub fn daily_limit(&self) -> Amount {
        self.daily_limit
    }
}

/// An output that leaves the vault, as the `destinations` rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsidePayment {
    /// Position in the transaction.
    pub output: usize,
    /// Its address on the policy's network, if the script has one.
    pub address: Option<String>,
    /// Whether the payout rule allows it.
    pub allowed: bool,
}

/// The `destinations` rule: cold pays only vault wallets; hot pays outside
/// only what the payout rule allows. `source` is the one wallet every input
/// comes from, if there is one.
pub fn check_destinations(source: Option<Tier>, outside: &[OutsidePayment]) -> RuleCheck {
    let rule = RuleId::Destinations;
    let list = |it: &mut dyn Iterator<Item = &OutsidePayment>, with_address: bool| {
        it.map(|o| match with_address {
            true => format!(
                "{} ({})",
                o.output,
                o.address.as_deref().unwrap_or("non-standard script")
            ),
            false => o.output.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
    };
    match source {
        None => judge(
            rule,
            false,
            "cannot be judged: the inputs are not from one vault wallet",
        ),
        Some(Tier::Cold) if !outside.is_empty() => judge(
            rule,
            false,
            format!(
                "the cold wallet may pay only vault wallets; output(s) {} go outside",
                list(&mut outside.iter(), false)
            ),
        ),
        Some(Tier::Hot) if outside.iter().any(|o| !o.allowed) => judge(
            rule,
            false,
            format!(
                "output(s) {} pay addresses not on the payout allowlist",
                list(&mut outside.iter().filter(|o| !o.allowed), true)
            ),
        ),
        Some(t) if outside.is_empty() => judge(rule, true, format!("{t} pays only vault wallets")),
        Some(_) => judge(
            rule,
            true,
            "every outside destination is on the payout allowlist",
        ),
    }
}

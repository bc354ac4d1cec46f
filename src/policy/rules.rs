//! What movements the vault allows: approvals, limits, allowlist, fees, ratio.

use bitcoin::{Address, Amount};

use super::units::FeeRateLimit;

/// All rules of a vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub(crate) cold_to_hot: ColdToHotRule,
    pub(crate) payouts: PayoutRule,
    pub(crate) fees: FeeRule,
    pub(crate) ratio: RatioRule,
    pub(crate) addresses: AddressRule,
}

impl Rules {
    /// Rules for moving funds out of cold storage.
    pub fn cold_to_hot(&self) -> &ColdToHotRule {
        &self.cold_to_hot
    }
    /// Rules for paying outside addresses from hot.
    pub fn payouts(&self) -> &PayoutRule {
        &self.payouts
    }
    /// Fee caps.
    pub fn fees(&self) -> &FeeRule {
        &self.fees
    }
    /// Cold ratio.
    pub fn ratio(&self) -> &RatioRule {
        &self.ratio
    }
    /// The range of address indexes the vault uses.
    pub fn addresses(&self) -> &AddressRule {
        &self.addresses
    }
}

/// Approvals and limits for cold→hot movements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColdToHotRule {
    pub(crate) min_approvals: usize,
    pub(crate) min_departments: usize,
    pub(crate) max_amount: Amount,
    pub(crate) daily_limit: Amount,
}

impl ColdToHotRule {
    /// Distinct approvers needed.
    pub fn min_approvals(&self) -> usize {
        self.min_approvals
    }
    /// Distinct departments needed among the approvers.
    pub fn min_departments(&self) -> usize {
        self.min_departments
    }
    /// Largest single movement.
    pub fn max_amount(&self) -> Amount {
        self.max_amount
    }
    /// Largest total in any 24 hours.
    pub fn daily_limit(&self) -> Amount {
        self.daily_limit
    }
}

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

/// Fee caps for every movement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeRule {
    pub(crate) max_feerate: FeeRateLimit,
    pub(crate) max_fee: Amount,
}

impl FeeRule {
    /// Highest fee rate.
    pub fn max_feerate(&self) -> FeeRateLimit {
        self.max_feerate
    }
    /// Highest absolute fee.
    pub fn max_fee(&self) -> Amount {
        self.max_fee
    }
}

/// How funds are split between the tiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatioRule {
    pub(crate) cold_min_percent: u8,
    pub(crate) hot_target_percent: u8,
}

impl RatioRule {
    /// Smallest share that must stay cold.
    pub fn cold_min_percent(&self) -> u8 {
        self.cold_min_percent
    }
    /// Share a rebalance aims to keep hot.
    pub fn hot_target_percent(&self) -> u8 {
        self.hot_target_percent
    }
    /// Whether `cold` out of `total` meets the minimum. An empty vault does.
    pub fn cold_share_ok(&self, cold: Amount, total: Amount) -> bool {
        total == Amount::ZERO
            || u128::from(cold.to_sat()) * 100
                >= u128::from(self.cold_min_percent) * u128::from(total.to_sat())
    }
}

/// The range of address indexes the vault uses, on the receive and the
/// change chain of both wallets.
///
/// One number binds all three programs: the signer refuses a PSBT that
/// spends from or pays to an index above it, and the coordinator and the
/// auditor always watch every index up to it. So no signed transaction can
/// put funds where balances and the cold ratio do not look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressRule {
    pub(crate) max_index: u32,
}

impl AddressRule {
    /// `max_index` when the policy does not set one.
    pub const DEFAULT_MAX_INDEX: u32 = 1_000;
    /// The largest `max_index` a policy may set: every program derives every
    /// script up to it, on two chains of two wallets.
    pub const MAX_INDEX_CEILING: u32 = 100_000;

    /// Highest address index used (inclusive).
    pub fn max_index(&self) -> u32 {
        self.max_index
    }
    /// Whether `index` lies in the vault's range.
    pub fn contains(&self, index: u32) -> bool {
        index <= self.max_index
    }
}

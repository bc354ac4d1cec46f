//! How vault funds are split between the tiers: the cold share's minimum
//! and the hot share a rebalance aims at.

use bitcoin::Amount;

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

/// `part` as a percentage of `whole`; 100 when `whole` is zero.
pub fn percent(part: Amount, whole: Amount) -> f64 {
    if whole == Amount::ZERO {
        100.0
    } else {
        part.to_sat() as f64 * 100.0 / whole.to_sat() as f64
    }
}

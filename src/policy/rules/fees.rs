//! Fee caps for every movement: an absolute fee and a fee rate.

use bitcoin::{Amount, SignedAmount};

use super::verdict::{judge, RuleCheck, RuleId};
use crate::policy::units::{btc, FeeRateLimit};

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

/// The `fee` rule: the fee is known, not negative, and within the cap.
pub fn check_fee(rule: &FeeRule, fee: Option<SignedAmount>) -> RuleCheck {
    let id = RuleId::Fee;
    match fee {
        None => judge(
            id,
            false,
            "the fee is unknown: not every spent output is proven",
        ),
        Some(f) if f.is_negative() => judge(id, false, "the outputs pay more than the inputs hold"),
        Some(f) => {
            let f = f.unsigned_abs();
            judge(
                id,
                f <= rule.max_fee,
                format!("fee {}; the cap is {}", btc(f), btc(rule.max_fee)),
            )
        }
    }
}

/// The `fee-rate` rule: the fee over the largest signed size (`vsize`
/// virtual bytes) is within the cap.
pub fn check_fee_rate(rule: &FeeRule, fee: Option<SignedAmount>, vsize: u64) -> RuleCheck {
    let id = RuleId::FeeRate;
    let cap = rule.max_feerate;
    match fee {
        Some(f) if !f.is_negative() => {
            let f = f.unsigned_abs();
            judge(
                id,
                cap.allows(f, vsize),
                format!(
                    "{:.1} sat/vB at {vsize} vB (largest signed size); the cap is {cap}",
                    f.to_sat() as f64 / vsize.max(1) as f64,
                ),
            )
        }
        _ => judge(id, false, "the fee rate is unknown"),
    }
}

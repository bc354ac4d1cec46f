//! Rebalancing: the transfer that brings the hot share of the vault back to
//! the policy's `hot_target_percent`, in either direction.

use bitcoin::Amount;

use crate::policy::Tier;

use super::balance::VaultBalance;

/// The move that brings the hot share to its target: (source tier, amount),
/// or `None` when the hot share is within one percentage point of it.
pub fn rebalance_move(balance: &VaultBalance) -> Option<(Tier, Amount)> {
    let total = balance.total().to_sat() as u128;
    if total == 0 {
        return None;
    }
    let target = total * u128::from(balance.ratio.hot_target_percent()) / 100;
    let hot = balance.hot.total().to_sat() as u128;
    let diff = target.abs_diff(hot);
    if diff * 100 < total {
        return None;
    }
    let from = if hot < target { Tier::Cold } else { Tier::Hot };
    Some((from, Amount::from_sat(diff as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordinator::TierBalance;
    use std::path::Path;

    fn balance(cold: u64, hot: u64) -> VaultBalance {
        let policy = crate::policy::VaultPolicy::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/policies/regtest-exchange.toml"
        )))
        .unwrap();
        let tier = |sat| TierBalance {
            confirmed: Amount::from_sat(sat),
            unconfirmed: Amount::ZERO,
            immature: Amount::ZERO,
        };
        VaultBalance {
            cold: tier(cold),
            hot: tier(hot),
            ratio: policy.rules().ratio().clone(),
        }
    }

    #[test]
    fn rebalance_goes_either_way() {
        // Target hot share is 10 %.
        assert_eq!(
            rebalance_move(&balance(100_000, 0)),
            Some((Tier::Cold, Amount::from_sat(10_000)))
        );
        assert_eq!(
            rebalance_move(&balance(50_000, 50_000)),
            Some((Tier::Hot, Amount::from_sat(40_000)))
        );
        assert_eq!(rebalance_move(&balance(90_000, 10_000)), None);
        assert_eq!(rebalance_move(&balance(90_500, 9_500)), None);
        assert_eq!(rebalance_move(&balance(0, 0)), None);
    }
}

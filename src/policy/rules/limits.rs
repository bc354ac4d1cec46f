//! Amount limits: per transaction, and per tier over a rolling 24 hours.
//!
//! - **Rolling window.** A movement counts for 24 hours after it was signed
//!   (or broadcast, in the coordinator's count), not until midnight: a limit
//!   `L` at 23:59 and again at 00:01 would otherwise be `2L` in two minutes.
//! - **Fees count.** What leaves a tier is its outgoing amount (to hot for a
//!   cold→hot transfer, outside for a payout) plus the fee of every movement,
//!   consolidations and hot→cold transfers included: a fee is money gone.
//!   What a hot→cold transfer moves stays in the vault and does not count.
//! - **Each signer its share.** A signer sees only what it signed itself. With
//!   an `m`-of-`n` wallet, every transaction carries `m` signatures, so if each
//!   of the `n` key holders signs at most `L·m/n` per window, all transactions
//!   signed in a window total at most `n·(L·m/n)/m = L`, whichever quorums
//!   sign them ([`LimitScope::Signer`]). The coordinator sees every broadcast
//!   and applies `L` itself ([`LimitScope::Wallet`]).

use bitcoin::{Amount, SignedAmount};
use serde::Serialize;

use super::movement::Movement;
use super::verdict::{judge, RuleCheck, RuleId};
use crate::policy::units::btc;
use crate::policy::{Tier, VaultPolicy};

/// The length of the daily-limit window, in seconds.
pub const WINDOW_SECS: u64 = 86_400;

/// Whose count of the last 24 hours a daily limit is judged on, which
/// decides how much of the policy's limit it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LimitScope {
    /// One key holder's own log: it may sign its share `L·m/n` of the limit.
    Signer,
    /// The coordinator's log of every broadcast: the whole limit `L`.
    Wallet,
}

/// What a movement counts against the daily limit of the tier it spends: the
/// amount that leaves for the other tier (cold→hot) or outside (payouts),
/// plus the fee. A proof of control counts nothing: it can never be mined.
/// Saturates rather than wraps: no real amount comes near it.
pub fn counted_amount(movement: Movement, moved: Amount, fee: Amount) -> Amount {
    if movement.is_proof() {
        return Amount::ZERO;
    }
    let outgoing = match movement {
        Movement::ColdToHot | Movement::HotPayout | Movement::ColdPayout => moved,
        Movement::HotToCold
        | Movement::ColdConsolidation
        | Movement::HotConsolidation
        | Movement::ColdProof
        | Movement::HotProof
        | Movement::ColdMigration
        | Movement::HotMigration => Amount::ZERO,
    };
    outgoing.checked_add(fee).unwrap_or(Amount::MAX)
}

/// The daily limit of `tier` in `policy`, as the policy states it.
pub fn daily_limit(policy: &VaultPolicy, tier: Tier) -> Amount {
    match tier {
        Tier::Cold => policy.rules().cold_to_hot().daily_limit(),
        Tier::Hot => policy.rules().payouts().daily_limit(),
    }
}

/// How much of `tier`'s daily limit a count of `scope` may reach: the whole
/// limit for the coordinator, `limit × threshold / keys` (rounded down) for
/// one key holder.
pub fn allowance(policy: &VaultPolicy, tier: Tier, scope: LimitScope) -> Amount {
    let limit = daily_limit(policy, tier);
    match scope {
        LimitScope::Wallet => limit,
        LimitScope::Signer => {
            let wallet = policy.wallet(tier);
            let m = wallet.threshold() as u128;
            let n = wallet.keys().len().max(1) as u128;
            let share = u128::from(limit.to_sat()) * m / n;
            Amount::from_sat(u64::try_from(share).unwrap_or(u64::MAX))
        }
    }
}

/// The `amount` rule: a cold→hot transfer's amount to hot, and a payout's
/// total paid outside (all `outside_outputs` together, however many go to
/// one address), within the policy's limit per transaction.
pub fn check_amount(
    policy: &VaultPolicy,
    movement: Option<Movement>,
    moved: Amount,
    outside_outputs: usize,
) -> RuleCheck {
    let rule = RuleId::Amount;
    match movement {
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
            judge(
                rule,
                moved <= max,
                format!(
                    "pays {} outside in {outside_outputs} output(s); the payout limit per transaction is {}",
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

/// The `daily-limit` rule: what `scope` counted from the movement's tier in
/// the last 24 hours (`before`), plus this movement's amount and fee, stays
/// within the allowance of that scope.
pub fn check_daily(
    policy: &VaultPolicy,
    movement: Option<Movement>,
    moved: Amount,
    fee: Option<SignedAmount>,
    before: Amount,
    scope: LimitScope,
) -> RuleCheck {
    let rule = RuleId::DailyLimit;
    let Some(movement) = movement else {
        return judge(rule, false, "cannot be judged without a movement kind");
    };
    if movement.is_proof() {
        // Whatever the day's count, a proof moves nothing and adds nothing.
        return judge(
            rule,
            true,
            "a proof of control moves nothing and is never counted",
        );
    }
    let fee = match fee {
        Some(f) if !f.is_negative() => f.unsigned_abs(),
        _ => return judge(rule, false, "cannot be judged: the fee is unknown"),
    };
    let tier = movement.source();
    let this = counted_amount(movement, moved, fee);
    let total = before.checked_add(this).unwrap_or(Amount::MAX);
    let allowed = allowance(policy, tier, scope);
    let limit = daily_limit(policy, tier);
    let whose = match scope {
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

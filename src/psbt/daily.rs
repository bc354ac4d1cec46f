//! What was already moved out of each tier in the last 24 hours, for the
//! daily limits.
//!
//! - **Rolling window.** A movement counts for 24 hours after it was signed
//!   (or broadcast, in the coordinator's count), not until midnight: a limit
//!   `L` at 23:59 and again at 00:01 would otherwise be `2L` in two minutes.
//! - **Per vault.** Entries count by vault name, not policy id, so that
//!   registering a changed policy of the same vault does not reset the count.
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
//!
//! Each transaction counts once however often it was signed, so signing the
//! same PSBT again after a lost file does not eat into the limit.

use std::collections::BTreeMap;

use bitcoin::{Amount, Txid};
use serde::Serialize;

use super::movement::Movement;
use crate::audit::LogEntry;
use crate::policy::{Tier, VaultPolicy};

/// The `kind` of the log entry a signature writes.
pub const SIGN_EVENT: &str = "sign";

/// The length of the daily-limit window, in seconds.
pub const WINDOW_SECS: u64 = 86_400;

/// Whose count a [`DailySpending`] is, which decides how much of the policy's
/// daily limit it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LimitScope {
    /// One key holder's own log: it may sign its share `L·m/n` of the limit.
    Signer,
    /// The coordinator's log of every broadcast: the whole limit `L`.
    Wallet,
}

/// One movement in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CountedMovement {
    /// What kind of movement.
    pub movement: Movement,
    /// What counts against its tier's limit: outgoing amount plus fee.
    pub counted: Amount,
}

/// Movements of one vault in the 24 hours before `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailySpending {
    /// Whose count this is.
    pub scope: LimitScope,
    /// The end of the window (Unix time).
    pub now: u64,
    /// Movements in the window, by transaction.
    pub movements: BTreeMap<Txid, CountedMovement>,
}

/// What a movement counts against the daily limit of the tier it spends: the
/// amount that leaves for the other tier (cold→hot) or outside (payouts),
/// plus the fee. Saturates rather than wraps: no real amount comes near it.
pub fn counted_amount(movement: Movement, moved: Amount, fee: Amount) -> Amount {
    let outgoing = match movement {
        Movement::ColdToHot | Movement::HotPayout | Movement::ColdPayout => moved,
        Movement::HotToCold | Movement::ColdConsolidation | Movement::HotConsolidation => {
            Amount::ZERO
        }
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

impl DailySpending {
    /// Nothing moved yet in the window ending at `now`.
    pub fn empty(scope: LimitScope, now: u64) -> Self {
        DailySpending {
            scope,
            now,
            movements: BTreeMap::new(),
        }
    }

    /// Whether an entry made at `unix_time` falls in the window. Entries
    /// stamped after `now` (a clock set back) count too: the safe side.
    pub fn in_window(&self, unix_time: u64) -> bool {
        unix_time.saturating_add(WINDOW_SECS) > self.now
    }

    /// Records one movement; a transaction recorded twice counts once, with
    /// the larger amount.
    pub fn record(&mut self, txid: Txid, movement: Movement, counted: Amount) {
        let entry = self
            .movements
            .entry(txid)
            .or_insert(CountedMovement { movement, counted });
        entry.counted = entry.counted.max(counted);
    }

    /// The total counted against `tier` in the window, leaving out `except`
    /// (the transaction under review, which counts with its own amount).
    pub fn total(&self, tier: Tier, except: Txid) -> Amount {
        self.movements
            .iter()
            .filter(|(txid, m)| m.movement.source() == tier && **txid != except)
            .try_fold(Amount::ZERO, |acc, (_, m)| acc.checked_add(m.counted))
            .unwrap_or(Amount::MAX)
    }

    /// A key holder's count from the `sign` entries of its verified log for
    /// the vault named `vault`, in the window ending at `now`.
    pub fn from_signer_log(entries: &[LogEntry], vault: &str, now: u64) -> Self {
        let mut out = DailySpending::empty(LimitScope::Signer, now);
        for e in entries {
            if e.kind() != SIGN_EVENT || !out.in_window(e.unix_time) {
                continue;
            }
            let field = |name: &str| e.event.get(name);
            if field("vault").and_then(|v| v.as_str()) != Some(vault) {
                continue;
            }
            let movement = field("movement")
                .and_then(|v| v.as_str())
                .and_then(|m| m.parse::<Movement>().ok());
            let txid = field("txid")
                .and_then(|v| v.as_str())
                .and_then(|t| t.parse::<Txid>().ok());
            let sat = |name: &str| field(name).and_then(|v| v.as_u64()).map(Amount::from_sat);
            if let (Some(m), Some(t), Some(moved)) = (movement, txid, sat("amount_sat")) {
                let fee = sat("fee_sat").unwrap_or(Amount::ZERO);
                out.record(t, m, counted_amount(m, moved, fee));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::hashes::Hash;

    fn txid(n: u8) -> Txid {
        Txid::from_byte_array([n; 32])
    }

    #[test]
    fn totals_leave_out_the_reviewed_transaction_and_count_each_once() {
        let mut s = DailySpending::empty(LimitScope::Signer, 1_000_000);
        s.record(txid(1), Movement::ColdToHot, Amount::from_sat(100));
        s.record(txid(2), Movement::ColdToHot, Amount::from_sat(50));
        s.record(txid(2), Movement::ColdToHot, Amount::from_sat(50));
        s.record(txid(3), Movement::HotPayout, Amount::from_sat(7));
        assert_eq!(s.total(Tier::Cold, txid(1)), Amount::from_sat(50));
        assert_eq!(s.total(Tier::Hot, txid(1)), Amount::from_sat(7));
    }

    #[test]
    fn fees_count_for_every_movement_and_amounts_for_outgoing_ones() {
        let (a, f) = (Amount::from_sat(1_000), Amount::from_sat(10));
        assert_eq!(
            counted_amount(Movement::HotPayout, a, f),
            Amount::from_sat(1_010)
        );
        assert_eq!(
            counted_amount(Movement::ColdToHot, a, f),
            Amount::from_sat(1_010)
        );
        assert_eq!(counted_amount(Movement::HotToCold, a, f), f);
        assert_eq!(counted_amount(Movement::HotConsolidation, a, f), f);
        assert_eq!(counted_amount(Movement::ColdConsolidation, a, f), f);
    }

    #[test]
    fn the_window_is_the_last_24_hours() {
        let s = DailySpending::empty(LimitScope::Signer, 10 * WINDOW_SECS);
        assert!(s.in_window(10 * WINDOW_SECS - 1));
        assert!(s.in_window(9 * WINDOW_SECS + 1));
        assert!(!s.in_window(9 * WINDOW_SECS));
        assert!(
            s.in_window(11 * WINDOW_SECS),
            "entries from the future count"
        );
    }
}

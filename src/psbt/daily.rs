//! What was already moved out of each tier in the last 24 hours, for the
//! daily limits.
//!
//! How much may be counted, and how a movement counts, are rules of the
//! policy (`policy::rules::limits`); this module gathers what was counted:
//!
//! - **Per vault.** Entries count by vault name, not policy id, so that
//!   registering a changed policy of the same vault does not reset the count.
//!
//! Each transaction counts once however often it was signed, so signing the
//! same PSBT again after a lost file does not eat into the limit.

use std::collections::BTreeMap;

use bitcoin::{Amount, Txid};
use serde::Serialize;

use crate::audit::{Event, LogEntry, LogError};
use crate::policy::rules::{counted_amount, LimitScope, Movement, WINDOW_SECS};
use crate::policy::Tier;

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
    /// the vault named `vault`, in the window ending at `now`. A `sign` entry
    /// that does not read is an error: skipping it would undercount.
    pub fn from_signer_log(entries: &[LogEntry], vault: &str, now: u64) -> Result<Self, LogError> {
        let mut out = DailySpending::empty(LimitScope::Signer, now);
        for e in entries {
            if !out.in_window(e.unix_time) {
                continue;
            }
            let Some(Event::Sign(s)) = e.event()? else {
                continue;
            };
            if s.vault != vault {
                continue;
            }
            if let Some(m) = s.movement {
                // A negative fee cannot be signed; read as none, it adds nothing.
                let fee = s
                    .fee
                    .and_then(|f| f.to_unsigned().ok())
                    .unwrap_or(Amount::ZERO);
                let counted = counted_amount(m, s.amount, fee);
                out.record(s.txid, m, counted);
            }
        }
        Ok(out)
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

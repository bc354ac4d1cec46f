//! What was already signed today, from a signer's own log, for daily limits.
//!
//! The signer trusts only its own hash-chained log: the coordinator could
//! under-report. Each transaction counts once however often it was signed, so
//! re-signing the same PSBT after a lost file does not eat into the limit.

use std::collections::BTreeMap;

use bitcoin::{Amount, Txid};
use serde::Serialize;

use super::movement::Movement;
use crate::audit::{utc_day, LogEntry};
use crate::policy::PolicyId;

/// The `kind` of the log entry a signature writes.
pub const SIGN_EVENT: &str = "sign";

/// Movements signed during one UTC day for one policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SpentToday {
    /// The UTC day number (days since 1970-01-01).
    pub day: u64,
    /// Signed transactions of the day: txid → (movement, amount in sat).
    pub signed: BTreeMap<String, (Movement, u64)>,
}

impl SpentToday {
    /// Nothing signed yet on `day`.
    pub fn empty(day: u64) -> Self {
        SpentToday {
            day,
            signed: BTreeMap::new(),
        }
    }

    /// The current UTC day number.
    pub fn today() -> u64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        utc_day(now)
    }

    /// Records one signed transaction.
    pub fn record(&mut self, txid: Txid, movement: Movement, amount: Amount) {
        self.signed
            .insert(txid.to_string(), (movement, amount.to_sat()));
    }

    /// The total of `movement` signed today, leaving out `except` (the
    /// transaction under review, which counts with its own amount).
    pub fn total(&self, movement: Movement, except: Txid) -> Amount {
        let except = except.to_string();
        Amount::from_sat(
            self.signed
                .iter()
                .filter(|(txid, (m, _))| *m == movement && **txid != except)
                .map(|(_, (_, sat))| *sat)
                .sum(),
        )
    }

    /// Sums the `sign` entries of `policy` on `day` from a verified log.
    /// Entries of other kinds, policies or days are ignored.
    pub fn from_log(entries: &[LogEntry], policy: PolicyId, day: u64) -> Self {
        let mut out = SpentToday::empty(day);
        let policy = policy.to_string();
        for e in entries {
            if e.kind() != SIGN_EVENT || utc_day(e.unix_time) != day {
                continue;
            }
            let field = |name: &str| e.event.get(name);
            if field("policy_id").and_then(|v| v.as_str()) != Some(policy.as_str()) {
                continue;
            }
            let movement = field("movement")
                .and_then(|v| v.as_str())
                .and_then(|m| m.parse::<Movement>().ok());
            let txid = field("txid").and_then(|v| v.as_str());
            let amount = field("amount_sat").and_then(|v| v.as_u64());
            if let (Some(m), Some(t), Some(a)) = (movement, txid, amount) {
                out.signed.insert(t.to_owned(), (m, a));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::hashes::Hash;

    #[test]
    fn totals_leave_out_the_reviewed_transaction() {
        let a = Txid::from_byte_array([1; 32]);
        let b = Txid::from_byte_array([2; 32]);
        let mut s = SpentToday::empty(5);
        s.record(a, Movement::ColdToHot, Amount::from_sat(100));
        s.record(b, Movement::ColdToHot, Amount::from_sat(50));
        s.record(b, Movement::ColdToHot, Amount::from_sat(50));
        assert_eq!(s.total(Movement::ColdToHot, a), Amount::from_sat(50));
        assert_eq!(s.total(Movement::HotPayout, a), Amount::ZERO);
    }
}

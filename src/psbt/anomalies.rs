//! Rules about the shape of the transaction rather than where its money goes:
//! output values (zero, dust, beyond the money supply, sums that overflow),
//! its lock time and its inputs' sequence numbers.
//!
//! A signer signs today and counts the movement against today's limits, so a
//! transaction that could only be mined later must not be signed: it could be
//! held back and broadcast together with others, beyond any daily limit.
//!
//! - **Lock time.** Accepted: 0, or a block height (1 to 499,999,999), which
//!   wallets that prevent fee sniping (Bitcoin Core, Sparrow, the coordinator)
//!   set to the current height. Refused: a date (500,000,000 or more). An
//!   offline signer cannot see the chain, so it cannot tell whether a height
//!   lies in the future: the height is shown in every review and written to
//!   the `sign` log entry, for the key holder to compare with the current
//!   height.
//! - **Sequences.** Accepted: any value with the BIP-68 disable flag (bit 31)
//!   set, 0x80000000 to 0xffffffff, which includes 0xffffffff, 0xfffffffe and
//!   0xfffffffd (replaceable, the default of Core and the coordinator); and a
//!   value whose lock length (the low 16 bits) is zero, such as 0. Refused,
//!   whatever the transaction version: bit 31 clear and a non-zero length, a
//!   relative lock of blocks or of 512-second units. Only a vault's recovery
//!   path needs a relative lock, and signers sign only the main path.
//! - **Output values.** Every output must carry at least the dust threshold of
//!   its script (Bitcoin Core's relay rule at 3 sat/vB: 294 sat for P2WPKH,
//!   330 for P2WSH and P2TR, 546 for P2PKH); a zero-value output is refused
//!   whatever its script, OP_RETURN included. Vault wallets never pay OP_RETURN
//!   outputs anyway: they have no address, so the destinations rule refuses
//!   them from either wallet.

use bitcoin::{Amount, Psbt};

use super::review::{btc, Review};
use crate::audit::utc_timestamp;
use crate::policy::rules::{judge, RuleCheck, RuleId};

/// The lowest nLockTime that is a date (Unix time) rather than a block height.
pub const LOCK_TIME_THRESHOLD: u32 = 500_000_000;

/// nSequence with every lock disabled (the input is final).
const SEQUENCE_FINAL: u32 = 0xffff_ffff;
/// BIP-68: when set, nSequence sets no relative lock.
const SEQUENCE_DISABLE_FLAG: u32 = 1 << 31;
/// BIP-68: when set, the relative lock counts 512-second units, not blocks.
const SEQUENCE_TYPE_FLAG: u32 = 1 << 22;
/// BIP-68: the lock length.
const SEQUENCE_LOCK_MASK: u32 = 0x0000_ffff;

/// The sequences wallets use without meaning a lock: final, lock time
/// enabled, and replaceable (BIP-125). Others are shown in the review.
const USUAL_SEQUENCES: [u32; 3] = [0xffff_ffff, 0xffff_fffe, 0xffff_fffd];

/// The sum of `amounts` in sat, if it neither overflows nor exceeds the
/// 21 million bitcoin a valid transaction can hold.
pub(crate) fn checked_total(amounts: impl IntoIterator<Item = u64>) -> Option<u64> {
    amounts
        .into_iter()
        .try_fold(0u64, |acc, a| acc.checked_add(a))
        .filter(|t| *t <= Amount::MAX_MONEY.to_sat())
}

/// `output-values`: no zero, dust or over-supply output, and totals that add
/// up (the review's sums are checked; `None` means they overflowed).
pub(crate) fn output_values(psbt: &Psbt, r: &Review) -> RuleCheck {
    let rule = RuleId::OutputValues;
    let mut bad = Vec::new();
    for (index, out) in psbt.unsigned_tx.output.iter().enumerate() {
        let value = out.value;
        let dust = out.script_pubkey.minimal_non_dust();
        if value == Amount::ZERO {
            bad.push(format!("output {index} pays nothing (a zero-value output)"));
        } else if value > Amount::MAX_MONEY {
            bad.push(format!(
                "output {index} pays {} sat, more than the 21,000,000 BTC that exist",
                value.to_sat()
            ));
        } else if value < dust {
            bad.push(format!(
                "output {index} pays {} sat, below the dust threshold of {} sat for its script type (nodes do not relay it)",
                value.to_sat(),
                dust.to_sat()
            ));
        }
    }
    if r.output_total_sat.is_none() {
        bad.push("the outputs add up to more than the 21,000,000 BTC that exist".into());
    }
    if bad.is_empty() {
        judge(
            rule,
            true,
            "every output pays at least its script's dust threshold",
        )
    } else {
        judge(
            rule,
            false,
            format!(
                "{}; the coordinator must build the transaction again without such outputs",
                bad.join("; ")
            ),
        )
    }
}

/// Whether nLockTime is in force: consensus ignores it when every input is final.
fn lock_time_enforced(r: &Review) -> bool {
    r.inputs.iter().any(|i| i.sequence != SEQUENCE_FINAL)
}

/// `lock-time`: 0 or a block height; a date is refused.
pub(crate) fn lock_time(r: &Review) -> RuleCheck {
    let rule = RuleId::LockTime;
    let lock = r.lock_time;
    if lock == 0 {
        return judge(rule, true, "no lock time");
    }
    if lock >= LOCK_TIME_THRESHOLD {
        return judge(
            rule,
            false,
            format!(
                "nLockTime {lock} is a date ({}); a transaction locked to a date is signed and counted today but may be mined only later. The signer accepts only 0 or a block height: build the transaction again without a time lock",
                utc_timestamp(u64::from(lock))
            ),
        );
    }
    let note = if lock_time_enforced(r) {
        "not valid before that block; wallets that prevent fee sniping use the current height. This signer cannot see the chain: check that it is not above the current height"
    } else {
        "not enforced: every input's sequence is final"
    };
    judge(rule, true, format!("locked to block {lock}: {note}"))
}

/// The relative lock an nSequence sets, in words, if any.
fn lock_of(sequence: u32) -> Option<String> {
    if sequence & SEQUENCE_DISABLE_FLAG != 0 {
        return None;
    }
    let length = sequence & SEQUENCE_LOCK_MASK;
    if length == 0 {
        return None;
    }
    Some(if sequence & SEQUENCE_TYPE_FLAG != 0 {
        format!("{} seconds", u64::from(length) * 512)
    } else {
        format!("{length} blocks")
    })
}

/// `relative-lock`: no input's sequence sets a BIP-68 relative lock.
pub(crate) fn relative_lock(r: &Review) -> RuleCheck {
    let rule = RuleId::RelativeLock;
    if r.recovery {
        // The timelocked branch exists for a lost quorum: its coins may
        // only move, whole, to the vault's registered successor.
        return match r.movement.is_some_and(|m| m.is_migration()) {
            true => judge(
                rule,
                true,
                "every input waits the recovery path's timelock: a recovery to the successor vault",
            ),
            false => judge(
                rule,
                false,
                "spends on the recovery path, which may only move the coins to the registered successor vault (a migration)",
            ),
        };
    }
    let bad: Vec<String> = r
        .inputs
        .iter()
        .filter_map(|i| {
            lock_of(i.sequence).map(|lock| {
                format!(
                    "input {} has nSequence 0x{:08x}, a relative lock of {lock}",
                    i.index, i.sequence
                )
            })
        })
        .collect();
    if bad.is_empty() {
        return judge(rule, true, "no input sets a relative lock");
    }
    judge(
        rule,
        false,
        format!(
            "{}; signers sign only the main path, which needs no relative lock. Build the transaction again with nSequence 0xfffffffd (replaceable) or 0xffffffff",
            bad.join("; ")
        ),
    )
}

/// Lines for [`Review::to_text`] when the lock time or sequences deserve a look.
pub(crate) fn timelock_lines(r: &Review) -> Vec<String> {
    let mut lines = Vec::new();
    if r.lock_time != 0 {
        let what = if r.lock_time >= LOCK_TIME_THRESHOLD {
            format!(
                "date {} (nLockTime {})",
                utc_timestamp(u64::from(r.lock_time)),
                r.lock_time
            )
        } else {
            format!("block {}", r.lock_time)
        };
        let enforced = if lock_time_enforced(r) {
            "not valid before it"
        } else {
            "not enforced, every input is final"
        };
        lines.push(format!("Lock time: {what}, {enforced}"));
    }
    let unusual: Vec<String> = r
        .inputs
        .iter()
        .filter(|i| !USUAL_SEQUENCES.contains(&i.sequence))
        .map(|i| {
            let lock =
                lock_of(i.sequence).map_or(String::new(), |l| format!(" (relative lock of {l})"));
            format!("input {} 0x{:08x}{lock}", i.index, i.sequence)
        })
        .collect();
    if !unusual.is_empty() {
        lines.push(format!("Unusual sequences: {}", unusual.join(", ")));
    }
    lines
}

/// The moved amount for people, saying so when the outputs' sum is invalid.
pub(crate) fn moved_text(r: &Review) -> String {
    match r.output_total_sat {
        Some(_) => btc(r.moved()),
        None => "an invalid amount (the outputs add up to more than 21,000,000 BTC)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_that_set_a_relative_lock() {
        for usual in [
            0xffff_ffff,
            0xffff_fffe,
            0xffff_fffd,
            0x8000_0000,
            0,
            1 << 22,
        ] {
            assert_eq!(lock_of(usual), None, "{usual:#x}");
        }
        assert_eq!(lock_of(10).as_deref(), Some("10 blocks"));
        assert_eq!(
            lock_of(SEQUENCE_TYPE_FLAG | 2).as_deref(),
            Some("1024 seconds")
        );
        assert_eq!(lock_of(0x7fff_ffff).as_deref(), Some("33553920 seconds"));
    }

    #[test]
    fn totals_refuse_overflow_and_more_than_the_supply() {
        assert_eq!(checked_total([1, 2, 3]), Some(6));
        assert_eq!(checked_total([u64::MAX, 1]), None);
        let max = Amount::MAX_MONEY.to_sat();
        assert_eq!(checked_total([max]), Some(max));
        assert_eq!(checked_total([max, 1]), None);
        assert_eq!(checked_total(std::iter::empty()), Some(0));
    }
}

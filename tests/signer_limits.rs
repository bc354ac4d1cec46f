//! Amount and daily limits as the signer enforces them: the payout cap binds a
//! whole transaction, and the daily limits count a rolling 24 hours per vault,
//! fees included, each key holder its share, so that rotating quorums stay
//! within the policy's limit.

mod signer_fixtures;

use bitcoin::hashes::Hash;
use bitcoin::{Amount, Psbt, Txid};
use custodia::audit::{now_unix, LogEntry};
use custodia::policy::{PolicyId, Tier, VaultPolicy};
use custodia::psbt::{
    allowance, DailySpending, LimitScope, Movement, Review, RuleId, SignablePsbt, WINDOW_SECS,
};
use signer_fixtures::*;

/// Asserts that `rule` alone fails: no key holder gets a signable PSBT, the
/// typed refusal names exactly that rule, and the PSBT stays byte-identical.
fn assert_refused_for(policy: &VaultPolicy, psbt: &Psbt, spent: &DailySpending, rule: RuleId) {
    let bytes = psbt.serialize();
    let refusal = SignablePsbt::check(policy, psbt.clone(), spent).unwrap_err();
    assert_eq!(refusal.rules(), [rule], "{}", refusal.review().to_text());
    assert_eq!(psbt.serialize(), bytes);
}

/// A `sign` log entry as a signer writes it, at `unix_time`.
fn sign_entry(
    seq: u64,
    unix_time: u64,
    vault: &str,
    txid: u8,
    movement: &str,
    amount: u64,
) -> LogEntry {
    LogEntry {
        seq,
        unix_time,
        time: String::new(),
        prev: String::new(),
        // Any policy of the vault: the count is by vault name.
        event: serde_json::json!({
            "kind": "sign",
            "policy_id": PolicyId::from_bytes([txid; 32]).to_string(),
            "vault": vault,
            "txid": Txid::from_byte_array([txid; 32]).to_string(),
            "movement": movement,
            "amount_sat": amount,
            "fee_sat": 10_000,
        }),
        hash: String::new(),
    }
}

/// A hot payout to allowlisted payee 1 of `outputs` outputs of `each` sat.
fn split_payout(policy: &VaultPolicy, outputs: usize, each: u64) -> Psbt {
    let input = 30 * BTC;
    let mut to: Vec<(To, Amount)> = (0..outputs)
        .map(|_| (To::Address(payee(1)), sat(each)))
        .collect();
    let change = input - each * outputs as u64 - 20_000;
    to.push((To::Vault(at(Tier::Hot, 1, 0)), sat(change)));
    spend(policy, &[(at(Tier::Hot, 0, 0), sat(input))], &to)
}

// ---------- gap 1: the payout cap binds the transaction ----------

#[test]
fn payout_cap_binds_the_transactions_total_not_each_output() {
    let policy = policy("regtest-exchange");
    assert_eq!(policy.rules().payouts().max_amount(), sat(BTC));
    // Twenty outputs of 0.1 BTC each stay under the 1 BTC cap one by one,
    // but pay 2 BTC to one allowlisted address in one transaction.
    let psbt = split_payout(&policy, 20, BTC / 10);
    assert_refused_for(&policy, &psbt, &today(), RuleId::Amount);
    // Ten such outputs are exactly the cap: signed.
    let psbt = split_payout(&policy, 10, BTC / 10);
    assert!(review(&policy, &psbt).passes());
}

#[test]
fn payout_over_the_per_transaction_limit() {
    let policy = policy("regtest-exchange");
    let psbt = hot_payout(&policy, 1, 2 * BTC);
    assert_refused_for(&policy, &psbt, &today(), RuleId::Amount);
}

// ---------- gap 4: daily limits that cannot be beaten ----------

#[test]
fn daily_limit_is_a_rolling_24_hours_not_a_calendar_day() {
    let policy = policy("regtest-exchange");
    let now = now_unix();
    let vault = policy.name();
    // 5.9 BTC signed 23 hours ago still counts; what was signed 25 hours ago does not.
    let entries = [
        sign_entry(1, now - 25 * 3600, vault, 1, "cold-to-hot", 5 * BTC),
        sign_entry(2, now - 23 * 3600, vault, 2, "cold-to-hot", 59 * BTC / 10),
    ];
    let spent = DailySpending::from_signer_log(&entries, vault, now).unwrap();
    assert_eq!(spent.movements.len(), 1);
    let mut psbt = cold_to_hot(&policy, BTC / 10);
    approve(&policy, &mut psbt, &["sato", "suzuki"]);
    assert_refused_for(&policy, &psbt, &spent, RuleId::DailyLimit);

    // An hour later the 5.9 BTC leave the window, whatever the calendar says.
    let later = DailySpending::from_signer_log(&entries, vault, now + 3600 + 1).unwrap();
    assert!(later.movements.is_empty());
    assert!(Review::of(&policy, &psbt, &later).passes());
    assert_eq!(WINDOW_SECS, 24 * 3600);
}

#[test]
fn daily_limit_counts_by_vault_so_a_replaced_policy_does_not_reset_it() {
    let policy = policy("regtest-exchange");
    let now = now_unix();
    // Signed under an earlier policy of the same vault (another policy id):
    // still counts. Another vault's entries do not.
    let entries = [
        sign_entry(1, now - 60, policy.name(), 1, "cold-to-hot", 5 * BTC),
        sign_entry(2, now - 60, "another-vault", 2, "cold-to-hot", 5 * BTC),
    ];
    let spent = DailySpending::from_signer_log(&entries, policy.name(), now).unwrap();
    assert_eq!(
        spent.total(Tier::Cold, Txid::all_zeros()),
        sat(5 * BTC + 10_000)
    );
    let mut psbt = cold_to_hot(&policy, BTC);
    approve(&policy, &mut psbt, &["sato", "suzuki"]);
    assert_refused_for(&policy, &psbt, &spent, RuleId::DailyLimit);
}

#[test]
fn daily_limit_counts_fees_of_every_movement() {
    let policy = policy("regtest-exchange");
    let now = now_unix();
    // Consolidations and hot→cold transfers move nothing out of the vault but
    // burn their fee: the fee counts.
    let mut entries: Vec<LogEntry> = (0..3)
        .map(|i| {
            sign_entry(
                i + 1,
                now - 60,
                policy.name(),
                i as u8 + 1,
                "hot-consolidation",
                0,
            )
        })
        .collect();
    entries.push(sign_entry(
        4,
        now - 60,
        policy.name(),
        9,
        "hot-to-cold",
        7 * BTC,
    ));
    let spent = DailySpending::from_signer_log(&entries, policy.name(), now).unwrap();
    assert_eq!(spent.total(Tier::Hot, Txid::all_zeros()), sat(40_000));

    // A payout counts its amount and its fee.
    let psbt = hot_payout(&policy, 1, BTC / 2);
    let r = Review::of(&policy, &psbt, &spent);
    let reason = &r.check(RuleId::DailyLimit).unwrap().reason;
    assert!(
        reason.starts_with(
            "0.00040000 BTC counted from hot in the last 24 hours plus 0.50005000 BTC"
        ),
        "{reason}"
    );
}

#[test]
fn each_key_holder_may_sign_its_share_of_the_daily_limit() {
    let policy = policy("regtest-exchange");
    // cold 3-of-5, 10 BTC a day: 6 BTC per key holder; hot 2-of-3, 20 BTC: 13.33… BTC.
    assert_eq!(
        allowance(&policy, Tier::Cold, LimitScope::Signer),
        sat(6 * BTC)
    );
    assert_eq!(
        allowance(&policy, Tier::Hot, LimitScope::Signer),
        sat(20 * BTC * 2 / 3)
    );
    assert_eq!(
        allowance(&policy, Tier::Cold, LimitScope::Wallet),
        sat(10 * BTC)
    );
    // The coordinator, which sees every broadcast, applies the whole limit.
    let mut psbt = cold_to_hot(&policy, 4 * BTC);
    approve(&policy, &mut psbt, &["sato", "suzuki"]);
    let now = now_unix();
    let mut spent = DailySpending::empty(LimitScope::Wallet, now);
    spent.record(
        Txid::from_byte_array([1; 32]),
        Movement::ColdToHot,
        sat(5 * BTC),
    );
    assert!(Review::of(&policy, &psbt, &spent).passes());
    let mut own = DailySpending::empty(LimitScope::Signer, now);
    own.record(
        Txid::from_byte_array([1; 32]),
        Movement::ColdToHot,
        sat(5 * BTC),
    );
    assert_refused_for(&policy, &psbt, &own, RuleId::DailyLimit);
}

/// Signs as many different transactions as any rotation of quorums lets
/// through, each key holder counting only its own signatures, and returns the
/// total moved. Each round offers the next transaction to the quorum whose
/// members have signed least.
fn rotate_quorums(
    policy: &VaultPolicy,
    tier: Tier,
    make: impl Fn(u32) -> Psbt,
    scope: LimitScope,
) -> Amount {
    let wallet = policy.wallet(tier);
    let (m, n) = (wallet.threshold(), wallet.keys().len());
    let now = now_unix();
    let mut logs: Vec<DailySpending> = (0..n).map(|_| DailySpending::empty(scope, now)).collect();
    let mut moved = Amount::ZERO;
    for round in 0..200 {
        let psbt = make(round);
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| logs[i].total(tier, Txid::all_zeros()));
        let willing: Vec<usize> = order
            .into_iter()
            .filter(|&i| Review::of(policy, &psbt, &logs[i]).passes())
            .take(m)
            .collect();
        if willing.len() < m {
            break;
        }
        let r = review(policy, &psbt);
        let fee = r.fee().unwrap().to_unsigned().unwrap();
        let movement = r.movement().unwrap();
        let counted = custodia::psbt::counted_amount(movement, r.moved(), fee);
        for i in willing {
            logs[i].record(r.txid(), movement, counted);
        }
        moved += counted;
    }
    moved
}

#[test]
fn rotating_quorums_stay_within_the_daily_limit() {
    let policy = policy("regtest-exchange");
    // Hot 2-of-3, 20 BTC a day, payouts of 1 BTC (the per-transaction cap).
    let payout = |i: u32| {
        spend(
            &policy,
            &[(at(Tier::Hot, 0, i), sat(3 * BTC))],
            &[
                (To::Address(payee(1)), sat(BTC)),
                (To::Vault(at(Tier::Hot, 1, i)), sat(2 * BTC - 5_000)),
            ],
        )
    };
    let hot_limit = policy.rules().payouts().daily_limit();
    let hot = rotate_quorums(&policy, Tier::Hot, payout, LimitScope::Signer);
    assert!(hot <= hot_limit, "{hot} moved past the {hot_limit} limit");
    assert!(
        hot >= sat(19 * BTC),
        "the bound still lets honest work through: {hot}"
    );
    // Had every key holder allowed the whole limit, rotation would move 1.5×.
    let unbounded = rotate_quorums(&policy, Tier::Hot, payout, LimitScope::Wallet);
    assert!(unbounded >= sat(28 * BTC), "{unbounded}");

    // Cold 3-of-5, 10 BTC a day, transfers of 1 BTC with approvals.
    let transfer = |i: u32| {
        let mut psbt = spend(
            &policy,
            &[(at(Tier::Cold, 0, i), sat(3 * BTC))],
            &[
                (To::Vault(at(Tier::Hot, 0, i)), sat(BTC)),
                (To::Vault(at(Tier::Cold, 1, i)), sat(2 * BTC - 10_000)),
            ],
        );
        approve(&policy, &mut psbt, &["sato", "suzuki"]);
        psbt
    };
    let cold_limit = policy.rules().cold_to_hot().daily_limit();
    let cold = rotate_quorums(&policy, Tier::Cold, transfer, LimitScope::Signer);
    assert!(
        cold <= cold_limit,
        "{cold} moved past the {cold_limit} limit"
    );
    let unbounded = rotate_quorums(&policy, Tier::Cold, transfer, LimitScope::Wallet);
    assert!(unbounded >= sat(15 * BTC), "{unbounded}");
}

#[test]
fn the_signers_recheck_judges_the_daily_limit_on_the_newest_log() {
    let policy = policy("regtest-exchange");
    let mut psbt = cold_to_hot(&policy, 2 * BTC);
    approve(&policy, &mut psbt, &["sato", "suzuki"]);
    let checked = signable(&policy, &psbt);
    assert!(checked.recheck(&today()).is_ok());
    // Meanwhile another session signed 5 BTC: the recheck refuses, naming
    // the daily limit alone.
    let mut newer = today();
    newer.record(
        Txid::from_byte_array([3; 32]),
        Movement::ColdToHot,
        sat(5 * BTC),
    );
    let refusal = checked.recheck(&newer).unwrap_err();
    assert_eq!(refusal.rules(), [RuleId::DailyLimit]);
    assert_eq!(refusal.review().txid(), checked.review().txid());
}

//! Proposals built against a chain in memory: what a transfer carries for
//! signers, the fee rate, the cold-ratio refusal, and rebalancing.

use bitcoin::{Amount, OutPoint, Psbt};

use crate::coordinator::balance::percent;
use crate::coordinator::test_vault::{TestVault, BTC, FEE_RATE};
use crate::coordinator::{CoordinatorError, Proposal, Refusal};
use crate::policy::Tier;
use crate::psbt::{policy_tag, Movement, PolicyTag, RuleId};
use crate::transport::FileError;

use super::parse_fee_rate;

#[test]
fn fee_rates_parse_with_or_without_unit() {
    assert_eq!(parse_fee_rate("5").unwrap().to_sat_per_vb_ceil(), 5);
    assert_eq!(parse_fee_rate("2.5 sat/vB").unwrap().to_sat_per_kwu(), 625);
    assert!(parse_fee_rate("fast").is_err());
}

/// What the outputs of `psbt` pay, in order.
fn output_values(psbt: &Psbt) -> Vec<u64> {
    psbt.unsigned_tx
        .output
        .iter()
        .map(|o| o.value.to_sat())
        .collect()
}

#[test]
fn a_cold_to_hot_transfer_carries_what_signers_need() {
    let v = TestVault::new();
    let funding = v.payment(Tier::Cold, 10 * BTC);
    v.chain.mine(vec![funding.clone()]);
    v.chain.set_estimate_sat_per_vb(Some(5.0));
    let out = v.file("transfer.psbt");

    let p = v
        .coordinator
        .propose_transfer_on(
            &v.chain,
            Tier::Cold,
            Tier::Hot,
            Amount::from_sat(BTC),
            None,
            &out,
        )
        .unwrap();

    assert_eq!(p.movement, Movement::ColdToHot);
    assert_eq!(p.amount.to_sat(), BTC);
    // No rate given: the chain's estimate.
    assert_eq!(p.fee_rate_sat_vb, 5.0);
    assert!(
        p.fee.to_sat() >= 5 * p.vsize,
        "{} sat for {} vB",
        p.fee.to_sat(),
        p.vsize
    );
    assert_eq!((p.approvals_needed, p.departments_needed), (2, 2));
    let roles: Vec<(&str, u64)> = p
        .outputs
        .iter()
        .map(|o| (o.role.as_str(), o.amount.to_sat()))
        .collect();
    let change = 10 * BTC - BTC - p.fee.to_sat();
    assert_eq!(roles.len(), 2);
    assert!(roles.contains(&("hot", BTC)), "{roles:?}");
    assert!(roles.contains(&("change", change)), "{roles:?}");
    let expected_ratio = percent(
        Amount::from_sat(change),
        Amount::from_sat(10 * BTC - p.fee.to_sat()),
    );
    assert_eq!(p.cold_percent_after, expected_ratio);

    let psbt = v.read_psbt(&out);
    assert_eq!(psbt.unsigned_tx.compute_txid(), p.txid);
    assert_eq!(
        policy_tag(&psbt),
        PolicyTag::Present(v.coordinator.policy().id())
    );
    // The one coin, with its full previous transaction (segwit v0 signers
    // check the amount against it).
    let coin = OutPoint::new(funding.compute_txid(), 0);
    assert_eq!(psbt.unsigned_tx.input.len(), 1);
    assert_eq!(psbt.unsigned_tx.input[0].previous_output, coin);
    assert_eq!(psbt.inputs[0].non_witness_utxo.as_ref(), Some(&funding));
    assert_eq!(psbt.inputs[0].bip32_derivation.len(), 5);
    // Every output re-derives: cold change from the five cold keys on the
    // change chain, the hot destination from the three hot keys on the
    // receive chain.
    for (i, txout) in psbt.unsigned_tx.output.iter().enumerate() {
        let origins = &psbt.outputs[i].bip32_derivation;
        let (keys, chain) = if txout.value.to_sat() == BTC {
            (3, 0)
        } else {
            (5, 1)
        };
        assert_eq!(origins.len(), keys, "output {i}");
        assert!(origins.values().all(|(_, path)| path
            .into_iter()
            .rev()
            .nth(1)
            .map(|c| u32::from(*c))
            == Some(chain)));
        assert!(psbt.outputs[i].witness_script.is_some(), "output {i}");
    }
    assert_eq!(
        output_values(&psbt).iter().sum::<u64>(),
        10 * BTC - p.fee.to_sat()
    );

    // Its coin is reserved for it.
    let coins = v.coordinator.coins(Some(Tier::Cold)).unwrap();
    assert_eq!(coins.len(), 1);
    assert_eq!(coins[0].outpoint, coin);
    assert!(coins[0].reserved);
}

#[test]
fn a_transfer_below_the_cold_minimum_is_refused() {
    let v = TestVault::new();
    let coin = v.fund(Tier::Cold, 10 * BTC);
    let out = v.file("transfer.psbt");

    let refusal = |sat: u64| {
        let err = v.transfer(Tier::Cold, sat, "transfer.psbt").unwrap_err();
        match err {
            CoordinatorError::Refused(Refusal::ColdRatio {
                cold_after,
                total_after,
                min_percent,
            }) => (cold_after, total_after, min_percent),
            other => panic!("expected the cold-ratio refusal, got {other:?}"),
        }
    };
    let (cold, total, min) = refusal(3 * BTC);
    assert_eq!(min, 80);
    assert_eq!(format!("{:.2}", percent(cold, total)), "70.00");
    // 2 of 10 BTC would leave exactly 80 % cold, but the fee comes out of
    // cold too.
    let (cold, total, min) = refusal(2 * BTC);
    assert_eq!(min, 80);
    assert!(cold < Amount::from_sat(8 * BTC) && total < Amount::from_sat(10 * BTC));
    assert!(percent(cold, total) < 80.0);
    assert!(!out.exists());
    let coins = v.coordinator.coins(Some(Tier::Cold)).unwrap();
    assert_eq!(coins[0].outpoint, coin);
    assert!(!coins[0].reserved, "a refused proposal reserves nothing");

    // A little less is fine.
    let p = v
        .transfer(Tier::Cold, 19 * BTC / 10, "transfer.psbt")
        .unwrap();
    assert_eq!(p.amount.to_sat(), 19 * BTC / 10);
    assert!(p.cold_percent_after >= 80.0 && p.cold_percent_after < 81.0);
}

#[test]
fn rebalance_moves_the_hot_share_to_its_target() {
    let v = TestVault::new();
    v.fund(Tier::Cold, 10 * BTC);

    // Hot holds nothing; its target is 10 % of 10 BTC.
    let p = v.rebalance("up.psbt").unwrap().expect("a rebalance");
    assert_eq!(p.movement, Movement::ColdToHot);
    assert_eq!(p.amount.to_sat(), BTC);
    assert!(p
        .outputs
        .iter()
        .any(|o| o.role == "hot" && o.amount.to_sat() == BTC));
    assert_eq!(p.note, None);
}

#[test]
fn rebalance_is_capped_at_the_transfer_maximum_and_goes_back_to_cold() {
    let v = TestVault::new();
    // 10 % of 60 BTC is 6 BTC, above the 5 BTC a transfer may move.
    v.fund(Tier::Cold, 60 * BTC);
    let p = v.rebalance("capped.psbt").unwrap().expect("a rebalance");
    assert_eq!(p.movement, Movement::ColdToHot);
    assert_eq!(p.amount.to_sat(), 5 * BTC);
    let note = p.note.expect("a note on the cap");
    assert!(note.contains("6.00000000 BTC"), "{note}");
    assert!(note.contains("5.00000000 BTC"), "{note}");

    // Hot over its target: 20 of 80 BTC is hot, the target 8 BTC.
    let v = TestVault::new();
    v.fund(Tier::Cold, 60 * BTC);
    v.fund(Tier::Hot, 20 * BTC);
    let p = v.rebalance("down.psbt").unwrap().expect("a rebalance");
    assert_eq!(p.movement, Movement::HotToCold);
    assert_eq!(p.amount.to_sat(), 12 * BTC);
    assert!(p
        .outputs
        .iter()
        .any(|o| o.role == "cold" && o.amount.to_sat() == 12 * BTC));
    assert_eq!((p.approvals_needed, p.departments_needed), (0, 0));

    // At the target (within a point): nothing to do.
    let v = TestVault::new();
    v.fund(Tier::Cold, 9 * BTC);
    v.fund(Tier::Hot, BTC);
    let none = v.rebalance("none.psbt").unwrap();
    assert!(none.is_none());
}

/// The allowlisted payees of the example policy.
const PAYEE_1: &str = "bcrt1qn6y5jd4gp208cx6px2crc48dvkc5k3028w88ml";
const PAYEE_2: &str = "bcrt1qgdkc6pm0dca7gv44juwa0ks43u3qe2jehqn8hu";

/// Proposes the payouts of `csv` into `name.psbt`.
fn payout(v: &TestVault, name: &str, csv: &str) -> Result<Proposal, CoordinatorError> {
    let file = v.file(&format!("{name}.csv"));
    std::fs::write(&file, csv).unwrap();
    let out = v.file(&format!("{name}.psbt"));
    v.coordinator
        .propose_payout_on(&v.chain, &file, Some(FEE_RATE), &out)
}

#[test]
fn a_payout_pays_the_allowlisted_rows_from_hot() {
    let v = TestVault::new();
    v.fund(Tier::Cold, 20 * BTC);
    let coin = v.fund(Tier::Hot, 2 * BTC);

    let p = payout(
        &v,
        "first",
        &format!("address,amount\n{PAYEE_1},0.25 BTC\n{PAYEE_2},150000 sat\n"),
    )
    .unwrap();
    assert_eq!(p.movement, Movement::HotPayout);
    assert_eq!(p.amount.to_sat(), 25_150_000);
    assert_eq!((p.approvals_needed, p.departments_needed), (0, 0));
    let mut paid: Vec<(String, u64)> = p
        .outputs
        .iter()
        .filter(|o| o.role == "external")
        .map(|o| (o.address.clone().unwrap_or_default(), o.amount.to_sat()))
        .collect();
    paid.sort();
    assert_eq!(
        paid,
        vec![
            (PAYEE_2.to_owned(), 150_000),
            (PAYEE_1.to_owned(), 25_000_000)
        ]
    );
    let change: Vec<u64> = p
        .outputs
        .iter()
        .filter(|o| o.role == "change")
        .map(|o| o.amount.to_sat())
        .collect();
    assert_eq!(change, vec![2 * BTC - 25_150_000 - p.fee.to_sat()]);
    let psbt = v.read_psbt(&p.file);
    assert_eq!(psbt.unsigned_tx.input[0].previous_output, coin);

    // Its coin is reserved: a second payout has nothing to spend, and says why.
    let again = format!("{PAYEE_1},0.1 BTC\n");
    match payout(&v, "again", &again).unwrap_err() {
        CoordinatorError::Build { reason, .. } => {
            assert!(
                reason.contains("1 coin(s) of the hot wallet are reserved"),
                "{reason}"
            )
        }
        other => panic!("expected a build failure, got {other:?}"),
    }
    assert_eq!(v.coordinator.abandon(&p.file).unwrap(), (p.txid, 1));

    // A payee outside the allowlist is refused by the signers' rule, before
    // anything is written.
    let err = payout(
        &v,
        "stranger",
        "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080,0.1 BTC\n",
    )
    .unwrap_err();
    let CoordinatorError::Refused(Refusal::Rules(failures)) = &err else {
        panic!("expected a refusal by the rules, got {err:?}");
    };
    let rules: Vec<RuleId> = failures.iter().map(|f| f.rule).collect();
    assert_eq!(rules, vec![RuleId::Destinations]);
    assert!(!v.file("stranger.psbt").exists());
}

/// `propose transfer` of 1 BTC from cold to hot, written to `out`.
fn transfer_one_btc(
    v: &TestVault,
    fee_rate: Option<bitcoin::FeeRate>,
    out: &std::path::Path,
) -> Result<Proposal, CoordinatorError> {
    v.coordinator.propose_transfer_on(
        &v.chain,
        Tier::Cold,
        Tier::Hot,
        Amount::from_sat(BTC),
        fee_rate,
        out,
    )
}

#[test]
fn no_proposal_while_the_node_is_catching_up() {
    let v = TestVault::new();
    v.fund(Tier::Cold, 10 * BTC);
    v.chain.set_initial_block_download(true);
    let err = transfer_one_btc(&v, None, &v.file("t.psbt")).unwrap_err();
    match err {
        CoordinatorError::NodeSyncing {
            blocks, headers, ..
        } => {
            assert_eq!((blocks, headers), (1, 1));
        }
        other => panic!("expected NodeSyncing, got {other:?}"),
    }
    // Nothing was synced either.
    assert_eq!(v.coordinator.balance().unwrap().total(), Amount::ZERO);
}

#[test]
fn an_output_file_that_exists_is_refused_before_any_work() {
    let v = TestVault::new();
    v.fund(Tier::Cold, 10 * BTC);
    let out = v.file("taken.psbt");
    std::fs::write(&out, b"an earlier proposal").unwrap();
    let err = transfer_one_btc(&v, None, &out).unwrap_err();
    assert!(
        matches!(&err, CoordinatorError::File(FileError::Exists(p)) if *p == out),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"an earlier proposal");
    // Refused before the wallets synced: they have not seen the funding.
    assert_eq!(v.coordinator.balance().unwrap().total(), Amount::ZERO);
}

//! Output values, lock times and pre-filled signatures through
//! `custodia-signer`: refusals leave no output, the input untouched and no
//! log entry; what signs is logged.

mod signer_fixtures;

use custodia::psbt::PsbtDocument;
use signer_fixtures::*;

#[test]
fn cli_dust_output_is_refused_and_nothing_is_written() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    assert_sign_refused(&cli, &hot_payout(&policy, 1, 293), "FAIL output-values");
    assert_sign_refused(&cli, &hot_payout(&policy, 1, 0), "FAIL output-values");
}

#[test]
fn cli_future_lock_time_and_relative_lock_are_refused_and_nothing_is_written() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    let mut dated = hot_payout(&policy, 1, BTC / 2);
    dated.unsigned_tx.lock_time = bitcoin::absolute::LockTime::from_consensus(1_900_000_000);
    assert_sign_refused(&cli, &dated, "FAIL lock-time");
    let mut relative = hot_payout(&policy, 1, BTC / 2);
    relative.unsigned_tx.input[0].sequence = bitcoin::Sequence::from_height(144);
    assert_sign_refused(&cli, &relative, "FAIL relative-lock");
}

#[test]
fn cli_anti_fee_sniping_lock_time_signs_and_is_logged() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    let mut psbt = hot_payout(&policy, 1, BTC / 2);
    psbt.unsigned_tx.lock_time = bitcoin::absolute::LockTime::from_consensus(850_000);
    let input = cli.write_psbt("sniping.psbt", &psbt);
    cli.sign(&input, cli.path("sniping.signed"))
        .arg("--yes")
        .assert()
        .success()
        .stderr(predicates::str::contains("Lock time: block 850000"));
    let log = custodia::audit::EventLog::new(cli.path("home/log.jsonl"));
    let entries = log.verify().unwrap().entries;
    let sign = entries.iter().rev().find(|e| e.kind() == "sign").unwrap();
    assert_eq!(sign.event["lock_time"], 850_000);
}

#[test]
fn cli_prefilled_bogus_signature_is_replaced() {
    let policy = policy("regtest-exchange");
    let cli = SignerCli::new("hot-1", "regtest-exchange");
    // hot-1's signature of another payout from the same address.
    let other = hot_payout(&policy, 2, BTC / 3);
    let signed_other =
        custodia::signer::signing::sign_psbt(&signable(&policy, &other), &master("hot-1"))
            .unwrap()
            .psbt;
    let mut psbt = hot_payout(&policy, 1, BTC / 2);
    psbt.inputs[0].partial_sigs = signed_other.inputs[0].partial_sigs.clone();
    let (pk, bogus) = psbt.inputs[0].partial_sigs.iter().next().unwrap();
    let (pk, bogus) = (*pk, *bogus);

    let input = cli.write_psbt("prefilled.psbt", &psbt);
    let out = cli.path("prefilled.signed");
    cli.sign(&input, &out)
        .arg("--yes")
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "replaced a signature for key hot-1 on input 0",
        ));
    let signed = PsbtDocument::read(&out).unwrap();
    let sig = signed.psbt().inputs[0].partial_sigs[&pk];
    assert_ne!(sig, bogus);
    let log = custodia::audit::EventLog::new(cli.path("home/log.jsonl"));
    let entries = log.verify().unwrap().entries;
    let sign = entries.iter().rev().find(|e| e.kind() == "sign").unwrap();
    assert_eq!(
        sign.event["replaced_signatures"],
        serde_json::json!([{"input": 0, "key": "hot-1"}])
    );
}

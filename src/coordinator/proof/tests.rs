use std::cell::RefCell;
use std::collections::HashMap;
use std::convert::Infallible;

use bitcoin::hashes::Hash;
use bitcoin::{Amount, BlockHash, OutPoint, TxOut};

use crate::audit::{Event, UnspentOutputs};
use crate::coordinator::error::CoordinatorError;
use crate::coordinator::test_vault::{TestVault, BTC};
use crate::policy::rules::RuleId;
use crate::policy::Tier;
use crate::psbt::proof::{self, CoinStatus, ProofMessage};
use crate::psbt::{DailySpending, LimitScope, Movement, Review};

/// A UTXO set in memory.
#[derive(Default)]
struct Utxos(RefCell<HashMap<OutPoint, TxOut>>);

impl UnspentOutputs for Utxos {
    type Error = Infallible;
    fn tip(&self) -> Result<(u64, BlockHash), Infallible> {
        Ok((7, BlockHash::all_zeros()))
    }
    fn unspent(&self, outpoint: OutPoint) -> Result<Option<TxOut>, Infallible> {
        Ok(self.0.borrow().get(&outpoint).cloned())
    }
}

fn message() -> ProofMessage {
    ProofMessage::new("audit 2026-12-03 nonce 42").unwrap()
}

fn review(v: &TestVault, psbt: &bitcoin::Psbt) -> Review {
    let spending = DailySpending::empty(LimitScope::Signer, crate::audit::now_unix());
    Review::of(v.coordinator.policy(), psbt, &spending)
}

#[test]
fn a_proof_spends_the_challenge_and_every_confirmed_coin_into_nothing() {
    let v = TestVault::new();
    let a = v.fund(Tier::Cold, BTC);
    let b = v.fund(Tier::Cold, 2 * BTC);
    v.fund(Tier::Hot, BTC / 10);
    v.chain.add_to_mempool(v.payment(Tier::Cold, BTC / 100));
    let file = v.file("proof.psbt");

    let p = v
        .coordinator
        .propose_proof_on(&v.chain, Tier::Cold, &message(), &file)
        .unwrap();
    assert_eq!(p.movement, Movement::ColdProof);
    assert_eq!((p.amount, p.fee), (Amount::ZERO, Amount::ZERO));

    let psbt = v.read_psbt(&file);
    let spent: Vec<OutPoint> = psbt
        .unsigned_tx
        .input
        .iter()
        .map(|i| i.previous_output)
        .collect();
    let mut coins = [a, b];
    coins.sort();
    assert_eq!(spent[0], message().challenge());
    assert_eq!(spent[1..], coins[..], "confirmed cold coins only");
    assert_eq!(psbt.unsigned_tx.output.len(), 1);
    assert_eq!(psbt.unsigned_tx.output[0].value, Amount::from_sat(3 * BTC));
    assert_eq!(
        psbt.unsigned_tx.output[0].script_pubkey,
        proof::unspendable_script()
    );

    let r = review(&v, &psbt);
    assert!(r.passes(), "{}", r.to_text());
    assert_eq!(r.movement(), Some(Movement::ColdProof));
    assert_eq!(r.proof_message(), Some(&message()));
    assert!(r.inputs()[0].challenge);
    assert_eq!(r.moved(), Amount::ZERO);

    // No coin is reserved: a proof spends nothing.
    let reserved = v.coordinator.coins(Some(Tier::Cold)).unwrap();
    assert!(reserved.iter().all(|c| !c.reserved));
    // The proposal is logged, so that signers' signatures of it reconcile.
    let logged = v.coordinator.proposal(r.txid()).unwrap().expect("logged");
    assert_eq!(logged.movement, Movement::ColdProof);
}

#[test]
fn a_proof_is_never_finalized_and_needs_coins() {
    let v = TestVault::new();
    let err = v
        .coordinator
        .propose_proof_on(&v.chain, Tier::Hot, &message(), &v.file("none.psbt"))
        .unwrap_err();
    assert!(matches!(err, CoordinatorError::NothingToProve(Tier::Hot)));
    assert!(!v.file("none.psbt").exists());

    v.fund(Tier::Hot, BTC);
    let file = v.file("proof.psbt");
    v.coordinator
        .propose_proof_on(&v.chain, Tier::Hot, &message(), &file)
        .unwrap();
    let before = v.coordinator.log_events().unwrap().len();
    let out = v.file("proof.hex");
    let err = v.coordinator.finalize(&[file], &out).unwrap_err();
    assert!(matches!(err, CoordinatorError::ProofIsNoTransaction(_)));
    assert!(!out.exists());
    let after = v.coordinator.log_events().unwrap();
    assert!(after[before..]
        .iter()
        .all(|(_, e)| !matches!(e, Event::Finalize(_))));
}

#[test]
fn a_tampered_proof_is_refused_by_the_review() {
    let v = TestVault::new();
    v.fund(Tier::Cold, BTC);
    v.fund(Tier::Cold, BTC);
    let file = v.file("proof.psbt");
    v.coordinator
        .propose_proof_on(&v.chain, Tier::Cold, &message(), &file)
        .unwrap();
    let proof = v.read_psbt(&file);
    let failing = |psbt: &bitcoin::Psbt| -> Vec<RuleId> {
        review(&v, psbt).failures().map(|c| c.rule).collect()
    };

    // The output paid to a vault-external address someone could spend.
    let mut spendable = proof.clone();
    spendable.unsigned_tx.output[0].script_pubkey =
        v.address(Tier::Hot).script_pubkey().as_script().to_p2wsh();
    assert!(failing(&spendable).contains(&RuleId::Destinations));

    // A fee taken, or a second output beside the burn.
    let mut fee = proof.clone();
    fee.unsigned_tx.output[0].value = Amount::from_sat(2 * BTC - 1_000);
    assert!(failing(&fee).contains(&RuleId::Destinations));
    let mut second = proof.clone();
    second.unsigned_tx.output[0].value = Amount::from_sat(BTC);
    second.unsigned_tx.output.push(TxOut {
        value: Amount::from_sat(BTC),
        script_pubkey: v.address(Tier::Hot).script_pubkey(),
    });
    second.outputs.push(Default::default());
    assert!(failing(&second).contains(&RuleId::Destinations));

    // The message changed after the challenge was built: input 0 is no
    // longer its challenge, and the PSBT is no proof at all.
    let mut other = proof.clone();
    let key = other
        .proprietary
        .keys()
        .find(|k| k.subtype == proof::SUBTYPE_PROOF_MESSAGE)
        .cloned()
        .unwrap();
    other.proprietary.insert(key, b"another audit".to_vec());
    let r = review(&v, &other);
    assert_eq!(r.movement(), None);
    assert!(failing(&other).contains(&RuleId::InputsFromVault));

    // Without the message field, the challenge is an input from outside.
    let mut bare = proof.clone();
    bare.proprietary
        .retain(|k, _| k.subtype != proof::SUBTYPE_PROOF_MESSAGE);
    assert!(failing(&bare).contains(&RuleId::InputsFromVault));

    // A challenge input carrying a signature is no bare challenge.
    let mut signed = proof.clone();
    signed.inputs[0].final_script_sig = Some(bitcoin::ScriptBuf::new());
    assert!(failing(&signed).contains(&RuleId::InputsFromVault));
}

#[test]
fn the_auditor_finds_unsigned_spent_and_changed_coins() {
    let v = TestVault::new();
    v.fund(Tier::Cold, BTC);
    v.fund(Tier::Cold, 2 * BTC);
    let file = v.file("proof.psbt");
    v.coordinator
        .propose_proof_on(&v.chain, Tier::Cold, &message(), &file)
        .unwrap();
    let psbt = v.read_psbt(&file);
    let policy = v.coordinator.policy();
    let utxos = Utxos::default();
    let r = review(&v, &psbt);
    for i in r.inputs().iter().filter(|i| !i.challenge) {
        utxos
            .0
            .borrow_mut()
            .insert(i.outpoint, i.spent.clone().unwrap());
    }

    // Unsigned: every coin is there, no signature completes a script.
    let verdict = proof::verify(policy, &psbt, &message(), &utxos).unwrap();
    assert!(!verdict.holds());
    assert!(verdict.finding().is_some());
    assert_eq!(verdict.coins.len(), 2);
    assert!(verdict
        .coins
        .iter()
        .all(|c| matches!(c.status, CoinStatus::Unsigned(_))));
    assert_eq!(verdict.proven, Amount::ZERO);
    assert!(verdict.review_failures.is_empty());

    // One coin spent since, the other with another amount on chain.
    let (first, second) = (r.inputs()[1].outpoint, r.inputs()[2].outpoint);
    utxos.0.borrow_mut().remove(&first);
    utxos.0.borrow_mut().get_mut(&second).unwrap().value = Amount::from_sat(1);
    let verdict = proof::verify(policy, &psbt, &message(), &utxos).unwrap();
    assert_eq!(verdict.coins[0].status, CoinStatus::NotUnspent);
    assert_eq!(verdict.coins[1].status, CoinStatus::Differs);

    // Another message than the auditor's: the proof answers no challenge of his.
    let other = ProofMessage::new("audit 2026-12-04").unwrap();
    let verdict = proof::verify(policy, &psbt, &other, &utxos).unwrap();
    assert_eq!(verdict.carried, message());
    assert!(!verdict.holds());

    // An ordinary PSBT is no proof.
    let mut plain = psbt.clone();
    plain
        .proprietary
        .retain(|k, _| k.subtype != proof::SUBTYPE_PROOF_MESSAGE);
    assert!(matches!(
        proof::verify(policy, &plain, &message(), &utxos),
        Err(proof::ProofError::NotAProof)
    ));
}

//! Reconciling over blocks in memory: an approved transfer reconciles; a
//! spend outside custodia, a transfer without verifiable approvals, and a
//! proposal that paid elsewhere on chain are findings.

use std::cell::RefCell;

use bitcoin::absolute::LockTime;
use bitcoin::block::{Header, Version};
use bitcoin::hashes::Hash;
use bitcoin::key::Keypair;
use bitcoin::secp256k1::Secp256k1;
use bitcoin::transaction::Version as TxVersion;
use bitcoin::{
    Amount, Block, BlockHash, CompactTarget, OutPoint, ScriptBuf, Sequence, Transaction, TxIn,
    TxMerkleNode, TxOut, Txid, Witness,
};

use super::*;
use crate::audit::{ApprovalSeen, EventLog, Proposed};
use crate::policy::approval::approval_digest;
use crate::policy::rules::Movement;
use crate::policy::{ApproverId, Chain, Tier};

/// The example vault with its address range cut to 20 (deriving 1,000
/// scripts per chain in a debug build tests nothing more).
fn vault() -> VaultPolicy {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policies/regtest-exchange.toml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    VaultPolicy::from_toml(&text.replace("max_index = 1000", "max_index = 20")).unwrap()
}

#[derive(Default)]
struct Blocks {
    blocks: RefCell<Vec<Block>>,
    mempool: Vec<Transaction>,
}

impl Blocks {
    fn mine(&self, txdata: Vec<Transaction>) {
        let mut blocks = self.blocks.borrow_mut();
        let prev = blocks
            .last()
            .map_or(BlockHash::all_zeros(), |b| b.block_hash());
        let time = blocks.len() as u32;
        blocks.push(Block {
            header: Header {
                version: Version::TWO,
                prev_blockhash: prev,
                merkle_root: TxMerkleNode::all_zeros(),
                time,
                bits: CompactTarget::from_consensus(0x207fffff),
                nonce: 0,
            },
            txdata,
        });
    }
}

impl ChainHistory for Blocks {
    type Error = std::io::Error;
    fn tip_height(&self) -> Result<u64, std::io::Error> {
        Ok(self.blocks.borrow().len() as u64 - 1)
    }
    fn block_at(&self, height: u64) -> Result<Block, std::io::Error> {
        Ok(self.blocks.borrow()[height as usize].clone())
    }
    fn mempool(&self) -> Result<Vec<Transaction>, std::io::Error> {
        Ok(self.mempool.clone())
    }
}

fn tx(inputs: Vec<OutPoint>, outputs: Vec<(ScriptBuf, u64)>) -> Transaction {
    Transaction {
        version: TxVersion::TWO,
        lock_time: LockTime::ZERO,
        input: inputs
            .into_iter()
            .map(|previous_output| TxIn {
                previous_output,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness: Witness::new(),
            })
            .collect(),
        output: outputs
            .into_iter()
            .map(|(script_pubkey, sat)| TxOut {
                value: Amount::from_sat(sat),
                script_pubkey,
            })
            .collect(),
    }
}

const BTC: u64 = 100_000_000;

/// A chain whose block 1 pays 10 BTC to cold, and the coin.
fn funded(policy: &VaultPolicy) -> (Blocks, OutPoint) {
    let chain = Blocks::default();
    chain.mine(vec![]);
    let funding = tx(
        vec![OutPoint::new(Txid::from_byte_array([9; 32]), 0)],
        vec![(
            policy
                .descriptor(Tier::Cold)
                .script_pubkey(Chain::Receive, 0),
            10 * BTC,
        )],
    );
    chain.mine(vec![funding.clone()]);
    (chain, OutPoint::new(funding.compute_txid(), 0))
}

/// 1 BTC from the cold coin to hot, change back to cold.
fn transfer(policy: &VaultPolicy, coin: OutPoint) -> Transaction {
    tx(
        vec![coin],
        vec![
            (
                policy
                    .descriptor(Tier::Hot)
                    .script_pubkey(Chain::Receive, 0),
                BTC,
            ),
            (
                policy
                    .descriptor(Tier::Cold)
                    .script_pubkey(Chain::Change, 0),
                9 * BTC - 500,
            ),
        ],
    )
}

fn log(events: Vec<Event>) -> (tempfile::TempDir, VerifiedLog) {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::new(dir.path().join("events.jsonl"));
    for e in &events {
        log.append(e).unwrap();
    }
    let verified = log.verify().unwrap();
    (dir, verified)
}

/// Reconciles `chain` from `from` against a coordinator log of `events`.
fn reconciled(
    policy: &VaultPolicy,
    events: Vec<Event>,
    chain: &Blocks,
    from: u64,
) -> Reconciliation {
    let (_dir, log) = log(events);
    reconcile(
        std::slice::from_ref(policy),
        &log,
        chain,
        from,
        &crate::progress::Quiet,
    )
    .unwrap()
}

fn proposal(policy: &VaultPolicy, tx: &Transaction, movement: Movement) -> Event {
    Event::Proposal(Proposed {
        policy_id: policy.id(),
        movement,
        txid: tx.compute_txid(),
        amount: Amount::from_sat(BTC),
        fee: Amount::from_sat(500),
        outputs: vec![],
        file: "transfer.psbt".into(),
        replaces: None,
        recovery: false,
    })
}

/// The approval of test approver `id`, as the coordinator logs it.
fn approval(policy: &VaultPolicy, tx: &Transaction, id: &str, department: &str) -> Event {
    let approver: ApproverId = id.parse().unwrap();
    let txid = tx.compute_txid();
    let secret =
        bitcoin::hashes::sha256::Hash::hash(format!("custodia test-only approver {id}").as_bytes());
    let secp = Secp256k1::new();
    let keypair = Keypair::from_seckey_slice(&secp, secret.as_byte_array()).unwrap();
    let digest = approval_digest(policy, txid, Movement::ColdToHot, &approver);
    let signature =
        secp.sign_schnorr_no_aux_rand(&bitcoin::secp256k1::Message::from_digest(digest), &keypair);
    Event::Approval(ApprovalSeen {
        policy_id: policy.id(),
        txid,
        movement: Movement::ColdToHot,
        approver,
        department: department.into(),
        signature: Some(signature),
    })
}

#[test]
fn an_approved_proposed_transfer_reconciles() {
    let policy = vault();
    let (chain, coin) = funded(&policy);
    let t = transfer(&policy, coin);
    chain.mine(vec![t.clone()]);
    let r = reconciled(
        &policy,
        vec![
            proposal(&policy, &t, Movement::ColdToHot),
            approval(&policy, &t, "sato", "treasury"),
            approval(&policy, &t, "tanaka", "risk"),
        ],
        &chain,
        0,
    );
    assert_eq!(r.tip_height, 2);
    assert_eq!(r.spends.len(), 1);
    let s = &r.spends[0];
    assert_eq!(s.spend.txid, t.compute_txid());
    assert_eq!(s.movement, Some(Movement::ColdToHot));
    assert_eq!(s.moved, Some(Amount::from_sat(BTC)));
    assert_eq!(s.spend.inputs[0].amount, Some(Amount::from_sat(10 * BTC)));
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    assert!(r.finding().is_none());
}

#[test]
fn a_spend_outside_custodia_is_a_finding_even_in_the_mempool() {
    let policy = vault();
    let (mut chain, coin) = funded(&policy);
    let theft = tx(
        vec![coin],
        vec![(ScriptBuf::new_op_return([1u8; 4]), 10 * BTC - 500)],
    );
    chain.mempool.push(theft.clone());
    let r = reconciled(&policy, vec![], &chain, 0);
    let findings = r.finding().expect("a finding").0;
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].txid, theft.compute_txid());
    assert_eq!(findings[0].height, None);
    assert_eq!(findings[0].tier, Some(Tier::Cold));
    assert_eq!(findings[0].problem, SpendProblem::NotProposed);
    assert_eq!(r.spends[0].spend.status, SpendStatus::Unconfirmed);
}

#[test]
fn approvals_that_are_missing_unsigned_or_forged_do_not_count() {
    let policy = vault();
    let (chain, coin) = funded(&policy);
    let t = transfer(&policy, coin);
    chain.mine(vec![t.clone()]);
    let mut unsigned = approval(&policy, &t, "tanaka", "risk");
    if let Event::Approval(a) = &mut unsigned {
        a.signature = None;
    }
    // sato's signature under ito's name: verifies for nobody.
    let mut forged = approval(&policy, &t, "sato", "treasury");
    if let Event::Approval(a) = &mut forged {
        a.approver = "ito".parse().unwrap();
    }
    for approvals in [
        vec![],
        vec![approval(&policy, &t, "sato", "treasury"), unsigned],
        vec![approval(&policy, &t, "sato", "treasury"), forged],
    ] {
        let mut events = vec![proposal(&policy, &t, Movement::ColdToHot)];
        events.extend(approvals);
        let r = reconciled(&policy, events, &chain, 0);
        let problems = &r.spends[0].problems;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            matches!(&problems[0], SpendProblem::RuleFails(c) if c.rule == crate::policy::rules::RuleId::Approvals),
            "{problems:?}"
        );
    }
}

#[test]
fn a_proposal_that_pays_elsewhere_on_chain_breaks_the_rules() {
    let policy = vault();
    let (chain, coin) = funded(&policy);
    // Logged as a transfer to hot, but the cold coin pays an outside script.
    let t = tx(
        vec![coin],
        vec![(ScriptBuf::new_op_return([2u8; 4]), 10 * BTC - 500)],
    );
    chain.mine(vec![t.clone()]);
    let r = reconciled(
        &policy,
        vec![proposal(&policy, &t, Movement::ColdToHot)],
        &chain,
        0,
    );
    let rules: Vec<_> = r.spends[0]
        .problems
        .iter()
        .map(|p| match p {
            SpendProblem::OtherMovement { on_chain, .. } => on_chain.as_str().to_owned(),
            SpendProblem::RuleFails(c) => c.rule.as_str().to_owned(),
            other => format!("{other:?}"),
        })
        .collect();
    assert!(rules.contains(&"destinations".to_owned()), "{rules:?}");
    assert_eq!(r.spends[0].movement.map(|m| m.source()), Some(Tier::Cold));
}

#[test]
fn a_coin_funded_before_the_walk_is_known_by_its_witness() {
    let policy = vault();
    let (chain, coin) = funded(&policy);
    let mut t = transfer(&policy, coin);
    // A P2WSH witness ends with the witness script.
    let script = policy
        .descriptor(Tier::Cold)
        .at(Chain::Receive, 0)
        .explicit_script()
        .unwrap();
    t.input[0].witness = Witness::from_slice(&[vec![], vec![0x30; 71], script.to_bytes()]);
    chain.mine(vec![t.clone()]);
    // Walking from height 2 misses the funding in block 1.
    let r = reconciled(&policy, vec![], &chain, 2);
    assert_eq!(r.spends.len(), 1);
    assert_eq!(r.spends[0].spend.inputs[0].tier, Tier::Cold);
    assert_eq!(r.spends[0].spend.inputs[0].amount, None);
    assert_eq!(r.spends[0].problems, vec![SpendProblem::NotProposed]);
}

#[test]
fn a_taproot_script_path_spend_is_known_by_its_witness() {
    use bitcoin::taproot::LeafVersion;
    use miniscript::Descriptor;

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/regtest-taproot.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let policy =
        VaultPolicy::from_toml(&text.replace("max_index = 1000", "max_index = 5")).unwrap();
    let chain = Blocks::default();
    chain.mine(vec![]);
    let cold = policy.descriptor(Tier::Cold).at(Chain::Receive, 3);
    let Ok(Descriptor::Tr(tr)) = cold.derived_descriptor(&Secp256k1::verification_only()) else {
        panic!("a taproot vault");
    };
    let info = tr.spend_info();
    let (script, version) = info.script_map().keys().next().cloned().expect("a leaf");
    assert_eq!(version, LeafVersion::TapScript);
    let control = info.control_block(&(script.clone(), version)).unwrap();
    let mut t = tx(
        vec![OutPoint::new(Txid::from_byte_array([7; 32]), 1)],
        vec![(ScriptBuf::new_op_return([3u8; 4]), BTC)],
    );
    t.input[0].witness =
        Witness::from_slice(&[vec![1; 64], script.to_bytes(), control.serialize()]);
    chain.mine(vec![t.clone()]);
    let r = reconciled(&policy, vec![], &chain, 0);
    assert_eq!(r.spends.len(), 1);
    assert_eq!(r.spends[0].spend.inputs[0].tier, Tier::Cold);
    assert_eq!(r.spends[0].problems, vec![SpendProblem::NotProposed]);
}

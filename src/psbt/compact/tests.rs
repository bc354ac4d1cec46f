use bitcoin::hashes::Hash;
use bitcoin::psbt::raw::ProprietaryKey;
use bitcoin::{absolute, transaction, Amount, OutPoint, ScriptBuf, Sequence};
use bitcoin::{Transaction, TxIn, TxOut, Txid, Witness};
use miniscript::psbt::PsbtExt;

use super::marker::Hint;
use super::*;
use crate::policy::{example, Chain, ScriptKind, Tier, VaultPolicy};
use crate::psbt::{set_policy_id, DailySpending, LimitScope, PsbtDocument, PsbtError, Review};
use crate::psbt::{RuleId, VaultPath};

fn path(tier: Tier, chain: u32, index: u32) -> VaultPath {
    VaultPath { tier, chain, index }
}

fn script_at(policy: &VaultPolicy, p: VaultPath) -> ScriptBuf {
    let chain = Chain::from_main_step(p.chain).unwrap();
    policy.descriptor(p.tier).script_pubkey(chain, p.index)
}

/// A PSBT spending vault coins at `inputs` to vault paths or other scripts,
/// filled the way the coordinator fills it.
fn spend(
    policy: &VaultPolicy,
    inputs: &[VaultPath],
    outputs: &[Result<VaultPath, ScriptBuf>],
) -> Psbt {
    let prevs: Vec<Transaction> = inputs
        .iter()
        .enumerate()
        .map(|(i, p)| Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::new(Txid::from_byte_array([7; 32]), i as u32),
                ..TxIn::default()
            }],
            output: vec![TxOut {
                value: Amount::from_sat(1_000_000),
                script_pubkey: script_at(policy, *p),
            }],
        })
        .collect();
    let tx = Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: prevs
            .iter()
            .map(|p| TxIn {
                previous_output: OutPoint::new(p.compute_txid(), 0),
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness: Witness::new(),
            })
            .collect(),
        output: outputs
            .iter()
            .map(|o| TxOut {
                value: Amount::from_sat(500_000),
                script_pubkey: match o {
                    Ok(p) => script_at(policy, *p),
                    Err(script) => script.clone(),
                },
            })
            .collect(),
    };
    let mut psbt = Psbt::from_unsigned_tx(tx).unwrap();
    for (i, (p, prev)) in inputs.iter().zip(prevs).enumerate() {
        psbt.inputs[i].witness_utxo = Some(prev.output[0].clone());
        if policy.wallet(p.tier).script() == ScriptKind::Wsh {
            psbt.inputs[i].non_witness_utxo = Some(prev);
        }
        let chain = Chain::from_main_step(p.chain).unwrap();
        let desc = policy.descriptor(p.tier).at(chain, p.index);
        psbt.update_input_with_descriptor(i, &desc).unwrap();
    }
    for (i, o) in outputs.iter().enumerate() {
        if let Ok(p) = o {
            let chain = Chain::from_main_step(p.chain).unwrap();
            let desc = policy.descriptor(p.tier).at(chain, p.index);
            psbt.update_output_with_descriptor(i, &desc).unwrap();
        }
    }
    set_policy_id(&mut psbt, policy.id()).unwrap();
    psbt
}

fn outside() -> ScriptBuf {
    ScriptBuf::new_p2wpkh(&bitcoin::WPubkeyHash::from_byte_array([3; 20]))
}

/// A cold consolidation of two coins with change to cold and a payment to hot.
fn transfer(policy: &VaultPolicy) -> Psbt {
    spend(
        policy,
        &[path(Tier::Cold, 0, 3), path(Tier::Cold, 1, 7)],
        &[Ok(path(Tier::Hot, 0, 1)), Ok(path(Tier::Cold, 1, 8))],
    )
}

fn round_trip(policy: &VaultPolicy, psbt: &Psbt) -> CompactPsbt {
    let compact = strip(psbt, policy).unwrap();
    let read = CompactPsbt::from_bytes(&compact.serialize()).unwrap();
    assert_eq!(read, compact);
    let full = refill(&read, policy).unwrap();
    assert_eq!(full.serialize(), psbt.serialize());
    compact
}

#[test]
fn every_example_policy_round_trips_and_shrinks() {
    for name in ["regtest-exchange", "regtest-taproot", "regtest-recovery"] {
        let policy = example(name);
        let psbt = transfer(&policy);
        let compact = round_trip(&policy, &psbt);
        assert_eq!(compact.stripped(), (2, 2), "{name}");
        assert_eq!(compact.policy_id(), policy.id());
        assert!(compact.serialize().len() < psbt.serialize().len(), "{name}");
        assert!(is_compact(compact.psbt()));
        assert!(!is_compact(&psbt));
    }
}

#[test]
fn what_the_signer_cannot_rederive_is_kept() {
    let policy = example("regtest-taproot");
    let mut psbt = spend(
        &policy,
        &[path(Tier::Hot, 0, 2), path(Tier::Hot, 0, 1_001)],
        &[Err(outside()), Ok(path(Tier::Hot, 1, 4))],
    );
    // A field of another program and a partial signature-like entry.
    let other = ProprietaryKey {
        prefix: b"other".to_vec(),
        subtype: 1,
        key: vec![],
    };
    psbt.inputs[0]
        .proprietary
        .insert(other.clone(), vec![1, 2, 3]);
    psbt.outputs[1].proprietary.insert(other, vec![4]);
    psbt.inputs[0].unknown.insert(
        bitcoin::psbt::raw::Key {
            type_value: 0xf0,
            key: vec![1],
        },
        vec![5],
    );
    let compact = round_trip(&policy, &psbt);
    // The index beyond max_index and the outside payment keep everything.
    assert_eq!(compact.stripped(), (1, 1));
    assert_eq!(compact.psbt().inputs[1], psbt.inputs[1]);
    assert_eq!(compact.psbt().outputs[0], psbt.outputs[0]);
    assert_eq!(compact.psbt().inputs[0].proprietary.len(), 1);
    assert_eq!(compact.psbt().inputs[0].unknown.len(), 1);
    // The stripped taproot input's previous output is re-derived from its
    // hint (format 2), its amount carried in the hint.
    assert_eq!(compact.psbt().inputs[0].witness_utxo, None);
    let hint = compact.marker.inputs[0].unwrap();
    assert_eq!(hint.amount, Some(Amount::from_sat(1_000_000)));
    assert_eq!(compact.marker.inputs[1], None);
}

#[test]
fn only_taproot_inputs_leave_their_previous_output_out() {
    for (name, left_out) in [("regtest-taproot", true), ("regtest-exchange", false)] {
        let policy = example(name);
        let compact = strip(&transfer(&policy), &policy).unwrap();
        for (i, hint) in compact.marker.inputs.iter().enumerate() {
            assert_eq!(hint.unwrap().amount.is_some(), left_out, "{name}");
            let input = &compact.psbt().inputs[i];
            assert_eq!(input.witness_utxo.is_none(), left_out, "{name}");
        }
    }
    // A hint that leaves out a segwit v0 previous output is refused even
    // where one is carried nowhere else: v0 signatures do not commit to it.
    let policy = example("regtest-exchange");
    let compact = strip(&transfer(&policy), &policy).unwrap();
    let mut psbt = compact.psbt.clone();
    psbt.inputs[0].witness_utxo = None;
    psbt.inputs[0].non_witness_utxo = None;
    let mut marker = compact.marker.clone();
    marker.inputs[0].as_mut().unwrap().amount = Some(Amount::from_sat(1_000_000));
    marker.insert_into(&mut psbt);
    assert!(matches!(
        refill(&CompactPsbt::from_psbt(psbt).unwrap(), &policy),
        Err(CompactError::PreviousOutputNeeded {
            place: Place::Input(0)
        })
    ));
}

#[test]
fn an_input_with_more_or_fewer_derivations_than_the_policy_writes_is_kept() {
    let policy = example("regtest-exchange");
    let mut psbt = transfer(&policy);
    let (key, origin) = psbt.inputs[0].bip32_derivation.pop_first().unwrap();
    let mut extra = origin.clone();
    extra.0 = bitcoin::bip32::Fingerprint::from([1, 2, 3, 4]);
    psbt.inputs[1].bip32_derivation.insert(key, extra);
    let compact = round_trip(&policy, &psbt);
    assert_eq!(compact.stripped(), (0, 2));
}

#[test]
fn segwit_v0_inputs_keep_their_previous_transactions() {
    let policy = example("regtest-exchange");
    let psbt = transfer(&policy);
    let compact = strip(&psbt, &policy).unwrap();
    for (c, full) in compact.psbt().inputs.iter().zip(&psbt.inputs) {
        assert!(c.non_witness_utxo.is_some());
        assert_eq!(c.non_witness_utxo, full.non_witness_utxo);
        assert!(c.witness_script.is_none() && c.bip32_derivation.is_empty());
    }
}

#[test]
fn a_compact_psbt_is_neither_read_nor_reviewed_as_it_is() {
    let policy = example("regtest-taproot");
    let compact = strip(&transfer(&policy), &policy).unwrap();
    assert!(matches!(
        PsbtDocument::from_bytes(&compact.serialize()),
        Err(PsbtError::Compact)
    ));
    let spent = DailySpending::empty(LimitScope::Signer, 0);
    let review = Review::of(&policy, compact.psbt(), &spent);
    let check = review.check(RuleId::PolicyId).unwrap();
    assert!(!check.passed, "{}", check.reason);
    assert!(check.reason.contains("compact"));
}

#[test]
fn strip_refuses_compact_untagged_and_foreign_psbts() {
    let policy = example("regtest-exchange");
    let psbt = transfer(&policy);
    let compact = strip(&psbt, &policy).unwrap();
    assert!(matches!(
        strip(compact.psbt(), &policy),
        Err(CompactError::AlreadyCompact)
    ));
    let mut untagged = psbt.clone();
    untagged.proprietary.clear();
    assert!(matches!(
        strip(&untagged, &policy),
        Err(CompactError::Untagged)
    ));
    let other = example("regtest-recovery");
    assert!(matches!(
        strip(&psbt, &other),
        Err(CompactError::PolicyMismatch { named, given }) if named == policy.id() && given == other.id()
    ));
}

/// The compact PSBT with its marker rewritten by `edit`.
fn with_marker(compact: &CompactPsbt, edit: impl FnOnce(&mut Marker)) -> CompactPsbt {
    let mut marker = compact.marker.clone();
    edit(&mut marker);
    let mut psbt = compact.psbt.clone();
    marker.insert_into(&mut psbt);
    CompactPsbt::from_psbt(psbt).unwrap()
}

#[test]
fn refill_refuses_what_the_policy_does_not_rederive() {
    let policy = example("regtest-taproot");
    let compact = strip(&transfer(&policy), &policy).unwrap();

    assert!(matches!(
        refill(&compact, &example("regtest-exchange")),
        Err(CompactError::PolicyMismatch { .. })
    ));
    // The policy id field and the marker disagree.
    let mut psbt = compact.psbt.clone();
    psbt.proprietary
        .remove(&crate::psbt::fields::policy_id_key());
    set_policy_id(&mut psbt, crate::policy::PolicyId::from_bytes([1; 32])).unwrap();
    let tagged_other = CompactPsbt::from_psbt(psbt).unwrap();
    assert!(matches!(
        refill(&tagged_other, &policy),
        Err(CompactError::PolicyMismatch { .. })
    ));

    // A taproot input's hint re-derives its previous output: a false one
    // re-fills to another previous output, over which no signature is
    // valid for this transaction (tests/psbt_compact.rs signs one).
    let moved = with_marker(&compact, |m| m.inputs[0].as_mut().unwrap().index = 4);
    let elsewhere = refill(&moved, &policy).unwrap();
    assert_eq!(
        elsewhere.inputs[0]
            .witness_utxo
            .as_ref()
            .unwrap()
            .script_pubkey,
        script_at(&policy, path(Tier::Cold, 0, 4))
    );
    let other_wallet = with_marker(&compact, |m| {
        m.outputs[0].as_mut().unwrap().tier = Tier::Cold
    });
    assert!(matches!(
        refill(&other_wallet, &policy),
        Err(CompactError::ScriptMismatch {
            place: Place::Output(0),
            ..
        })
    ));
    let beyond = with_marker(&compact, |m| m.inputs[1].as_mut().unwrap().index = 1 << 40);
    assert!(matches!(
        refill(&beyond, &policy),
        Err(CompactError::IndexBeyondRange { place: Place::Input(1), index, max_index: 1_000, .. }) if index == 1 << 40
    ));

    let mut half = compact.psbt.clone();
    half.inputs[0].tap_merkle_root = Some(bitcoin::TapNodeHash::from_byte_array([0; 32]));
    assert!(matches!(
        refill(&CompactPsbt::from_psbt(half).unwrap(), &policy),
        Err(CompactError::NotStripped {
            place: Place::Input(0)
        })
    ));
    let mut restated = compact.psbt.clone();
    restated.inputs[1].witness_utxo = Some(TxOut {
        value: Amount::from_sat(1),
        script_pubkey: outside(),
    });
    assert!(matches!(
        refill(&CompactPsbt::from_psbt(restated).unwrap(), &policy),
        Err(CompactError::NotStripped {
            place: Place::Input(1)
        })
    ));
    // A segwit v0 input keeps its previous output, and needs it.
    let policy = example("regtest-exchange");
    let compact = strip(&transfer(&policy), &policy).unwrap();
    let moved = with_marker(&compact, |m| m.inputs[0].as_mut().unwrap().index = 4);
    assert!(matches!(
        refill(&moved, &policy),
        Err(CompactError::ScriptMismatch { place: Place::Input(0), at }) if at.index == 4
    ));
    let mut no_prevout = compact.psbt.clone();
    no_prevout.inputs[1].witness_utxo = None;
    no_prevout.inputs[1].non_witness_utxo = None;
    assert!(matches!(
        refill(&CompactPsbt::from_psbt(no_prevout).unwrap(), &policy),
        Err(CompactError::MissingPreviousOutput {
            place: Place::Input(1)
        })
    ));
}

#[test]
fn hints_must_match_the_transaction() {
    let policy = example("regtest-exchange");
    let psbt = transfer(&policy);
    assert!(matches!(
        CompactPsbt::from_psbt(psbt.clone()),
        Err(CompactError::NotCompact)
    ));
    let compact = strip(&psbt, &policy).unwrap();
    let mut marker = compact.marker.clone();
    marker.inputs.push(Some(Hint {
        tier: Tier::Cold,
        chain: Chain::Receive,
        index: 0,
        amount: None,
    }));
    let mut longer = compact.psbt.clone();
    marker.insert_into(&mut longer);
    assert!(matches!(
        CompactPsbt::from_psbt(longer),
        Err(CompactError::Marker(MarkerFault::InputCount {
            hints: 3,
            inputs: 2
        }))
    ));
    // A wsh input whose full previous transaction is not the one spent.
    let mut lying = compact.psbt.clone();
    lying.inputs[0].non_witness_utxo = lying.inputs[1].non_witness_utxo.clone();
    assert!(matches!(
        refill(&CompactPsbt::from_psbt(lying).unwrap(), &policy),
        Err(CompactError::PreviousOutputMismatch {
            place: Place::Input(0)
        })
    ));
}

#[test]
fn errors_are_bad_input() {
    use crate::error::{Classify, ExitCode};
    assert_eq!(CompactError::NotCompact.exit_code(), ExitCode::BadInput);
    assert_eq!(
        CompactError::Marker(MarkerFault::Truncated).exit_code(),
        ExitCode::BadInput
    );
    let err = CompactError::ScriptMismatch {
        place: Place::Output(1),
        at: path(Tier::Hot, 1, 4),
    };
    assert_eq!(err.exit_code(), ExitCode::BadInput);
    assert!(err.to_string().starts_with("output 1: "), "{err}");
}

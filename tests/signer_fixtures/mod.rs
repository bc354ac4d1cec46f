//! Test vaults and PSBTs built from the public test keys in
//! `tests/data/test-keys.toml`. Shared by the signer tests and the signing
//! benchmark (which includes this file by path).
#![allow(dead_code)]

use std::path::PathBuf;
use std::str::FromStr;

use bitcoin::bip32::Xpriv;
use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::{Keypair, Secp256k1, SecretKey};
use bitcoin::{absolute, transaction, Address, Amount, Network, OutPoint, Psbt, ScriptBuf};
use bitcoin::{Sequence, Transaction, TxIn, TxOut, Txid, Witness};
use custodia::policy::ApproverId;
use custodia::policy::{Chain, ScriptKind, Tier, VaultPolicy};
use custodia::psbt::approvals::sign_approval;
use custodia::psbt::{
    add_approval, set_policy_id, ApprovablePsbt, DailySpending, LimitScope, Review, RuleId,
    SignablePsbt, VaultPath,
};
use custodia::signer::signing::sign_psbt;
use custodia::signer::MasterKey;
use miniscript::psbt::PsbtExt;

mod cli;

// Not every test crate drives the CLI.
#[allow(unused_imports)]
pub use cli::*;

/// Path of a file in the crate.
pub fn crate_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// One of the example policies, e.g. `regtest-exchange`.
pub fn policy(name: &str) -> VaultPolicy {
    VaultPolicy::load(&crate_path(&format!("policies/{name}.toml"))).expect("example policy loads")
}

#[derive(serde::Deserialize)]
struct KeysFile {
    keys: Vec<KeyEntry>,
    approvers: Vec<ApproverEntry>,
}
#[derive(serde::Deserialize)]
struct KeyEntry {
    id: String,
    mnemonic: String,
}
#[derive(serde::Deserialize)]
struct ApproverEntry {
    id: String,
    secret_hex: String,
}

fn keys_file() -> KeysFile {
    let text = std::fs::read_to_string(crate_path("tests/data/test-keys.toml")).unwrap();
    toml::from_str(&text).unwrap()
}

/// The mnemonic words of a test key, e.g. `cold-1`.
pub fn mnemonic(id: &str) -> String {
    keys_file()
        .keys
        .into_iter()
        .find(|k| k.id == id)
        .unwrap_or_else(|| panic!("no test key {id}"))
        .mnemonic
}

/// The master key of a test key holder, for regtest.
pub fn master(id: &str) -> MasterKey {
    master_xpriv(id).into()
}

/// The regtest master key of a test key as a plain `Xpriv`, for deriving
/// descriptors in tests and benchmarks.
pub fn master_xpriv(id: &str) -> Xpriv {
    let m = bip39::Mnemonic::parse(mnemonic(id)).unwrap();
    Xpriv::new_master(Network::Regtest, &m.to_seed("")).unwrap()
}

/// The approval key of a test approver, e.g. `sato`.
pub fn approver_keypair(id: &str) -> Keypair {
    let a = keys_file()
        .approvers
        .into_iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("no test approver {id}"));
    let sk = SecretKey::from_str(&a.secret_hex).unwrap();
    Keypair::from_secret_key(&Secp256k1::new(), &sk)
}

/// Test payee N (1 and 2 are allowlisted in regtest-exchange, 3 is not).
pub fn payee(n: u32) -> Address {
    let secret = sha256::Hash::hash(format!("custodia test-only payee {n}").as_bytes());
    let sk = SecretKey::from_slice(secret.as_byte_array()).unwrap();
    let pk = bitcoin::CompressedPublicKey(sk.public_key(&Secp256k1::new()));
    Address::p2wpkh(&pk, Network::Regtest)
}

/// A vault path.
pub fn at(tier: Tier, chain: u32, index: u32) -> VaultPath {
    VaultPath { tier, chain, index }
}

/// Where a built output goes.
#[derive(Clone)]
pub enum To {
    /// A vault address, with its derivation filled in.
    Vault(VaultPath),
    /// An outside address.
    Address(Address),
}

/// A previous transaction paying `amount` to `script`, made unique by `salt`.
pub fn funding_tx(script: ScriptBuf, amount: Amount, salt: u32) -> Transaction {
    Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(Txid::from_byte_array([7; 32]), salt),
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: amount,
            script_pubkey: script,
        }],
    }
}

fn chain(c: u32) -> Chain {
    Chain::from_main_step(c).unwrap()
}

/// A PSBT spending vault coins at `inputs` to `outputs`, with every field a
/// coordinator fills (full previous transactions, witness UTXOs, BIP-32
/// derivations, taproot fields) and tagged with the policy id.
pub fn spend(
    policy: &VaultPolicy,
    inputs: &[(VaultPath, Amount)],
    outputs: &[(To, Amount)],
) -> Psbt {
    let prevs: Vec<Transaction> = inputs
        .iter()
        .enumerate()
        .map(|(i, (p, amount))| {
            let script = policy
                .descriptor(p.tier)
                .script_pubkey(chain(p.chain), p.index);
            funding_tx(script, *amount, i as u32)
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
            .map(|(to, amount)| TxOut {
                value: *amount,
                script_pubkey: match to {
                    To::Vault(p) => policy
                        .descriptor(p.tier)
                        .script_pubkey(chain(p.chain), p.index),
                    To::Address(a) => a.script_pubkey(),
                },
            })
            .collect(),
    };
    let mut psbt = Psbt::from_unsigned_tx(tx).unwrap();
    for (i, ((p, _), prev)) in inputs.iter().zip(prevs).enumerate() {
        psbt.inputs[i].witness_utxo = Some(prev.output[0].clone());
        if policy.wallet(p.tier).script() == ScriptKind::Wsh {
            psbt.inputs[i].non_witness_utxo = Some(prev);
        }
        let desc = policy.descriptor(p.tier).at(chain(p.chain), p.index);
        psbt.update_input_with_descriptor(i, &desc).unwrap();
    }
    for (i, (to, _)) in outputs.iter().enumerate() {
        if let To::Vault(p) = to {
            let desc = policy.descriptor(p.tier).at(chain(p.chain), p.index);
            psbt.update_output_with_descriptor(i, &desc).unwrap();
        }
    }
    set_policy_id(&mut psbt, policy.id()).unwrap();
    psbt
}

/// Key ids of a wallet, by tier.
pub fn keys_of(policy: &VaultPolicy, tier: Tier) -> Vec<String> {
    policy
        .wallet(tier)
        .keys()
        .iter()
        .map(|k| k.to_string())
        .collect()
}

/// Satoshis per bitcoin.
pub const BTC: u64 = 100_000_000;

/// An amount in satoshis.
pub fn sat(n: u64) -> Amount {
    Amount::from_sat(n)
}

/// Nothing signed yet today.
pub fn today() -> DailySpending {
    DailySpending::empty(LimitScope::Signer, custodia::audit::now_unix())
}

/// Reviews with nothing signed yet today.
pub fn review(policy: &VaultPolicy, psbt: &Psbt) -> Review {
    Review::of(policy, psbt, &today())
}

/// Adds valid approvals of `who` for the PSBT's movement.
pub fn approve(policy: &VaultPolicy, psbt: &mut Psbt, who: &[&str]) {
    let r = review(policy, psbt);
    for id in who {
        let id: ApproverId = id.parse().unwrap();
        let a = sign_approval(
            policy,
            r.txid(),
            r.movement().unwrap(),
            &id,
            &approver_keypair(id.as_str()),
        );
        add_approval(policy, psbt, &a).unwrap();
    }
}

/// A cold→hot transfer of `amount` with change, fee 10,000 sat.
pub fn cold_to_hot(policy: &VaultPolicy, amount: u64) -> Psbt {
    let input = 10 * BTC;
    spend(
        policy,
        &[(at(Tier::Cold, 0, 3), sat(input))],
        &[
            (To::Vault(at(Tier::Hot, 0, 1)), sat(amount)),
            (
                To::Vault(at(Tier::Cold, 1, 0)),
                sat(input - amount - 10_000),
            ),
        ],
    )
}

/// A hot payout of `amount` to `payee` with change, fee 5,000 sat.
pub fn hot_payout(policy: &VaultPolicy, payee_n: u32, amount: u64) -> Psbt {
    let input = 3 * BTC;
    spend(
        policy,
        &[(at(Tier::Hot, 0, 2), sat(input))],
        &[
            (To::Address(payee(payee_n)), sat(amount)),
            (To::Vault(at(Tier::Hot, 1, 4)), sat(input - amount - 5_000)),
        ],
    )
}

/// The PSBT as a key holder may sign it, with nothing signed yet today.
pub fn signable(policy: &VaultPolicy, psbt: &Psbt) -> SignablePsbt {
    match SignablePsbt::check(policy, psbt.clone(), &today()) {
        Ok(s) => s,
        Err(refusal) => panic!("{}", refusal.review().to_text()),
    }
}

/// Signs copies with each of `signers` (all must sign every input) and combines them.
pub fn sign_all(policy: &VaultPolicy, psbt: &Psbt, signers: &[&str]) -> Psbt {
    let checked = signable(policy, psbt);
    let mut signed = psbt.clone();
    for s in signers {
        let out = sign_psbt(&checked, &master(s)).unwrap();
        assert_eq!(out.outcome.inputs_signed, psbt.inputs.len());
        signed.combine(out.psbt).unwrap();
    }
    signed
}

// ---------- refusals ----------

/// Asserts the review refuses because of `rule` and that no key holder of
/// either wallet signs.
pub fn assert_refused(policy: &VaultPolicy, psbt: &Psbt, rule: RuleId) -> Review {
    assert_refused_with(policy, psbt, rule, &today())
}

pub fn assert_refused_with(
    policy: &VaultPolicy,
    psbt: &Psbt,
    rule: RuleId,
    spent: &DailySpending,
) -> Review {
    let bytes = psbt.serialize();
    let r = Review::of(policy, psbt, spent);
    assert!(
        !r.check(rule).unwrap().passed,
        "rule {} should fail:\n{}",
        rule.as_str(),
        r.to_text()
    );
    assert!(!r.passes());
    assert!(r.to_text().contains("REFUSED"));
    // No signer gets a signable PSBT: the typed refusal names the rule.
    let refusal = SignablePsbt::check(policy, psbt.clone(), spent).unwrap_err();
    assert!(refusal.rules().contains(&rule), "{:?}", refusal.rules());
    assert_eq!(refusal.review().txid(), r.txid());
    // Nor an approver, unless approvals are all that is missing.
    if rule != RuleId::Approvals {
        let refusal = ApprovablePsbt::check(policy, psbt.clone(), spent).unwrap_err();
        assert!(refusal.rules().contains(&rule), "{:?}", refusal.rules());
    }
    assert_eq!(psbt.serialize(), bytes, "a refused PSBT must not change");
    r
}

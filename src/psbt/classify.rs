//! Classifying inputs and outputs by re-derivation from the policy.
//!
//! A PSBT's BIP-32 derivations only say where to look: an input or output
//! belongs to a vault wallet only if the script rebuilt from the policy's
//! descriptor at the claimed (chain, index) is byte-identical to its script.
//! Chains are 0 (receive) or 1 (change), steps unhardened; whether the index
//! lies in the policy's address range is a rule of its own (`address-range`),
//! judged after the script is verified. Amounts of inputs come only from
//! verified previous outputs.

use std::collections::HashMap;

use bitcoin::bip32::{DerivationPath, Fingerprint};
use bitcoin::psbt::{Input, Output};
use bitcoin::{Address, Amount, OutPoint, PublicKey, TxOut};
use miniscript::Descriptor;
use serde::Serialize;

pub(crate) use super::derive::Deriver;
use super::derive::VaultPath;
use crate::policy::rules::RuleId;
use crate::policy::{ScriptKind, Tier, NUMS_INTERNAL_KEY};

/// Something wrong with one input, and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule broken.
    pub rule: RuleId,
    /// Words for people.
    pub reason: String,
}

/// One input, re-derived.
#[derive(Debug, Clone, Serialize)]
pub struct InputReview {
    /// Position in the transaction.
    pub index: usize,
    /// The coin spent (`txid:vout` in JSON).
    pub outpoint: OutPoint,
    /// Its nSequence (BIP-68 relative locks are refused).
    pub sequence: u32,
    /// Amount spent, from a verified previous output.
    #[serde(rename = "amount_sat", with = "bitcoin::amount::serde::as_sat::opt")]
    pub amount: Option<Amount>,
    /// The vault wallet and path it belongs to, if it does.
    pub owner: Option<VaultPath>,
    /// What is wrong with it.
    pub findings: Vec<Finding>,
    /// It is the challenge of a proof of control (input 0), which spends
    /// nothing of the vault and is never signed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub challenge: bool,
    #[serde(skip)]
    pub(crate) spent: Option<TxOut>,
    #[serde(skip)]
    pub(crate) descriptor: Option<Descriptor<PublicKey>>,
}

/// Where an output's money goes, seen from the wallet that spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "class")]
pub enum Destination {
    /// Back to a wallet of the vault (change if it is the spending wallet).
    Vault {
        /// Which wallet.
        tier: Tier,
    },
    /// To the wallet of the same name in the vault's registered successor
    /// policy (a migration after a key rotation).
    Successor {
        /// Which wallet of the successor.
        tier: Tier,
    },
    /// Outside the vault.
    External {
        /// Whether the payout allowlist names it.
        allowlisted: bool,
    },
}

/// One output, re-derived.
#[derive(Debug, Clone, Serialize)]
pub struct OutputReview {
    /// Position in the transaction.
    pub index: usize,
    /// Amount paid.
    #[serde(rename = "amount_sat", with = "bitcoin::amount::serde::as_sat")]
    pub amount: Amount,
    /// The address, if the script has one on the policy's network.
    pub address: Option<String>,
    /// Where it goes.
    pub destination: Destination,
    /// The vault path it was verified at.
    pub owner: Option<VaultPath>,
    /// The PSBT claims a vault derivation the script does not match: an
    /// attempt to pass an outside address off as change.
    pub false_claim: bool,
    #[serde(skip)]
    pub(crate) script: bitcoin::ScriptBuf,
}

fn claims_of_input(input: &Input) -> Vec<(Fingerprint, DerivationPath)> {
    let mut v: Vec<_> = input.bip32_derivation.values().cloned().collect();
    v.extend(input.tap_key_origins.values().map(|(_, o)| o.clone()));
    v
}

fn claims_of_output(output: &Output) -> Vec<(Fingerprint, DerivationPath)> {
    let mut v: Vec<_> = output.bip32_derivation.values().cloned().collect();
    v.extend(output.tap_key_origins.values().map(|(_, o)| o.clone()));
    v
}

fn finding(rule: RuleId, reason: impl Into<String>) -> Finding {
    Finding {
        rule,
        reason: reason.into(),
    }
}

/// The previous output an input spends, as far as the PSBT proves it.
fn spent_output(
    input: &Input,
    outpoint: bitcoin::OutPoint,
    findings: &mut Vec<Finding>,
) -> Option<TxOut> {
    if let Some(prev) = &input.non_witness_utxo {
        if prev.compute_txid() != outpoint.txid {
            findings.push(finding(
                RuleId::PreviousOutputs,
                "its full previous transaction has another txid than the outpoint (fee lie?)",
            ));
            return None;
        }
        let Some(out) = prev.output.get(outpoint.vout as usize) else {
            findings.push(finding(
                RuleId::PreviousOutputs,
                "the outpoint's index is beyond the previous transaction's outputs",
            ));
            return None;
        };
        if input.witness_utxo.as_ref().is_some_and(|w| w != out) {
            findings.push(finding(
                RuleId::PreviousOutputs,
                "its witness_utxo differs from the output of the full previous transaction (amount lie?)",
            ));
            return None;
        }
        return Some(out.clone());
    }
    input.witness_utxo.clone()
}

/// Reviews every input.
pub(crate) fn review_inputs(deriver: &mut Deriver<'_>, psbt: &bitcoin::Psbt) -> Vec<InputReview> {
    let nums: bitcoin::XOnlyPublicKey = NUMS_INTERNAL_KEY.parse().expect("NUMS key parses");
    let mut out = Vec::with_capacity(psbt.inputs.len());
    let mut seen = HashMap::with_capacity(psbt.inputs.len());
    let claim_sets: Vec<_> = psbt.inputs.iter().map(claims_of_input).collect();
    deriver.prefetch(&claim_sets);
    for (index, (txin, input)) in psbt.unsigned_tx.input.iter().zip(&psbt.inputs).enumerate() {
        let mut findings = Vec::new();
        if let Some(first) = seen.insert(txin.previous_output, index) {
            findings.push(finding(
                RuleId::InputsFromVault,
                format!("spends the same coin as input {first} (an invalid transaction)"),
            ));
        }
        let spent = spent_output(input, txin.previous_output, &mut findings);
        let mut owner = None;
        let mut descriptor = None;
        match &spent {
            None if findings.is_empty() => findings.push(finding(
                RuleId::PreviousOutputs,
                "carries no previous output (run utxoupdatepsbt with the vault descriptors)",
            )),
            None => {}
            Some(prev) => {
                let (found, _) = deriver.locate(&prev.script_pubkey, claim_sets[index].iter());
                match found {
                    None => findings.push(finding(
                        RuleId::InputsFromVault,
                        "does not spend from this vault: no BIP-32 derivation of a vault key rebuilds its script",
                    )),
                    Some(at) => {
                        owner = Some(at);
                        descriptor = Some(deriver.descriptor(at).clone());
                    }
                }
            }
        }
        if let Some(at) = owner {
            let kind = deriver.policy.wallet(at.tier).script();
            check_script_specifics(kind, input, &nums, descriptor.as_ref(), &mut findings);
        }
        if let Some(t) = input.sighash_type {
            let ok = match owner.map(|o| deriver.policy.wallet(o.tier).script()) {
                Some(ScriptKind::Tr) => matches!(t.to_u32(), 0x00 | 0x01),
                _ => t.to_u32() == 0x01,
            };
            if !ok {
                findings.push(finding(
                    RuleId::Sighash,
                    format!("asks for sighash type {t}; only ALL (or taproot DEFAULT) is signed"),
                ));
            }
        }
        out.push(InputReview {
            index,
            outpoint: txin.previous_output,
            sequence: txin.sequence.to_consensus_u32(),
            amount: spent.as_ref().map(|o| o.value),
            owner,
            findings,
            challenge: false,
            spent,
            descriptor,
        });
    }
    out
}

fn check_script_specifics(
    kind: ScriptKind,
    input: &Input,
    nums: &bitcoin::XOnlyPublicKey,
    descriptor: Option<&Descriptor<PublicKey>>,
    findings: &mut Vec<Finding>,
) {
    match kind {
        ScriptKind::Wsh => {
            if input.non_witness_utxo.is_none() {
                findings.push(finding(
                    RuleId::PreviousOutputs,
                    "segwit v0 input without its full previous transaction (needed against fee lies; run utxoupdatepsbt)",
                ));
            }
        }
        ScriptKind::Tr => {
            if input.tap_internal_key.is_some_and(|k| k != *nums) {
                findings.push(finding(
                    RuleId::Taproot,
                    "its taproot internal key is not the policy's unspendable key",
                ));
            }
            if let (Some(root), Some(Descriptor::Tr(tr))) = (input.tap_merkle_root, descriptor) {
                if merkle_root(tr) != Some(root) {
                    findings.push(finding(
                        RuleId::Taproot,
                        "its taproot merkle root differs from the one rebuilt from the policy",
                    ));
                }
            }
        }
    }
}

/// The merkle root of a taproot descriptor's script tree, by hashing alone:
/// miniscript's `spend_info` would also tweak the internal key, one more
/// elliptic-curve operation (and a new secp256k1 context) per input.
fn merkle_root(tr: &miniscript::descriptor::Tr<PublicKey>) -> Option<bitcoin::TapNodeHash> {
    let mut builder = bitcoin::taproot::TaprootBuilder::new();
    for (depth, script) in tr.iter_scripts() {
        builder = builder.add_leaf(depth, script.encode()).ok()?;
    }
    builder.try_into_node_info().ok().map(|n| n.node_hash())
}

/// Reviews every output; with the `successor` policy's deriver, an output
/// that re-derives to one of its wallets goes to the successor.
pub(crate) fn review_outputs(
    deriver: &mut Deriver<'_>,
    mut successor: Option<&mut Deriver<'_>>,
    psbt: &bitcoin::Psbt,
) -> Vec<OutputReview> {
    let policy = deriver.policy;
    let network = policy.network();
    psbt.unsigned_tx
        .output
        .iter()
        .zip(&psbt.outputs)
        .enumerate()
        .map(|(index, (txout, output))| {
            let claims = claims_of_output(output);
            let (owner, mut false_claim) = deriver.locate(&txout.script_pubkey, claims.iter());
            let address = Address::from_script(&txout.script_pubkey, network).ok();
            let next = match (owner, successor.as_deref_mut()) {
                (None, Some(next)) => next.locate(&txout.script_pubkey, claims.iter()).0,
                _ => None,
            };
            let destination = match (owner, next) {
                (Some(at), _) => Destination::Vault { tier: at.tier },
                (None, Some(at)) => {
                    // A key kept from this policy claims the output too: the
                    // successor's script, not a false claim.
                    false_claim = false;
                    Destination::Successor { tier: at.tier }
                }
                (None, None) => Destination::External {
                    allowlisted: address
                        .as_ref()
                        .is_some_and(|a| policy.rules().payouts().allows(a)),
                },
            };
            OutputReview {
                index,
                amount: txout.value,
                address: address.map(|a| a.to_string()),
                destination,
                owner,
                false_claim,
                script: txout.script_pubkey.clone(),
            }
        })
        .collect()
}

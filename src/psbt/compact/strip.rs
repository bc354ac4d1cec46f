//! Stripping: what the coordinator does before it shows a PSBT as QR frames.

use bitcoin::bip32::{DerivationPath, Fingerprint};
use bitcoin::Psbt;
use miniscript::psbt::{PsbtInputExt, PsbtOutputExt};

use super::marker::{Hint, Marker};
use super::{clear_input, clear_output, previous_output, CompactError, CompactPsbt};
use crate::policy::{Chain, VaultPolicy};
use crate::psbt::derive::{Deriver, VaultPath};
use crate::psbt::fields::{is_compact, policy_tag, PolicyTag};

/// The compact form of `psbt` for `policy`, which it must name.
///
/// An input or output is stripped only if the policy re-derives it exactly:
/// its script is the one the policy's descriptor derives at a (chain, index)
/// within the policy's `max_index`, and its derivation and script fields are
/// byte for byte the ones that descriptor writes. Anything else (a foreign
/// input, an index beyond the range, a partial or extra derivation) is kept
/// as it is, with an empty hint, so re-filling always gives back `psbt`.
pub fn strip(psbt: &Psbt, policy: &VaultPolicy) -> Result<CompactPsbt, CompactError> {
    if is_compact(psbt) {
        return Err(CompactError::AlreadyCompact);
    }
    match policy_tag(psbt) {
        PolicyTag::Present(id) if id == policy.id() => {}
        PolicyTag::Present(named) => {
            return Err(CompactError::PolicyMismatch {
                named,
                given: policy.id(),
            })
        }
        PolicyTag::Missing | PolicyTag::Malformed => return Err(CompactError::Untagged),
    }
    let mut deriver = Deriver::new(policy);
    let mut compact = psbt.clone();
    let mut inputs = Vec::with_capacity(psbt.inputs.len());
    for (i, input) in compact.inputs.iter_mut().enumerate() {
        let hint = input_hint(&mut deriver, psbt, i);
        if let Some(hint) = hint {
            clear_input(input);
            if hint.amount.is_some() {
                input.witness_utxo = None;
            }
        }
        inputs.push(hint);
    }
    let mut outputs = Vec::with_capacity(psbt.outputs.len());
    for (i, output) in compact.outputs.iter_mut().enumerate() {
        let hint = output_hint(&mut deriver, psbt, i);
        if hint.is_some() {
            clear_output(output);
        }
        outputs.push(hint);
    }
    let marker = Marker {
        policy_id: policy.id(),
        inputs,
        outputs,
    };
    marker.insert_into(&mut compact);
    Ok(CompactPsbt {
        psbt: compact,
        marker,
    })
}

/// The vault path a script's derivation claims lead to, if the policy
/// re-derives the script there and the index is in the policy's range.
fn verified_path<'a>(
    deriver: &mut Deriver<'_>,
    script: &bitcoin::Script,
    claims: impl Iterator<Item = &'a (Fingerprint, DerivationPath)>,
) -> Option<(Hint, VaultPath)> {
    let (found, _) = deriver.locate(script, claims);
    let at = found?;
    if !deriver.policy.rules().addresses().contains(at.index) {
        return None;
    }
    let hint = Hint {
        tier: at.tier,
        chain: Chain::from_main_step(at.chain)?,
        index: at.index.into(),
        amount: None,
    };
    Some((hint, at))
}

/// The hint of input `i`, if the policy re-derives it. A taproot input
/// whose previous output is known only from its `witness_utxo` loses that
/// too, its amount going into the hint: every BIP-341 signature commits to
/// the script and amount of every input's previous output, so a signer
/// that re-derives them from a hint cannot be led to sign anything valid
/// for another transaction. A segwit v0 signature commits to neither of the
/// other inputs, so those keep what they state.
fn input_hint(deriver: &mut Deriver<'_>, psbt: &Psbt, i: usize) -> Option<Hint> {
    let input = &psbt.inputs[i];
    let previous = previous_output(psbt, i).ok()?;
    let script = &previous.script_pubkey;
    let claims = input
        .bip32_derivation
        .values()
        .chain(input.tap_key_origins.values().map(|(_, origin)| origin));
    let (mut hint, at) = verified_path(deriver, script, claims)?;
    let descriptor = deriver.policy.descriptor(at.tier).at(hint.chain, at.index);
    let mut refilled = input.clone();
    clear_input(&mut refilled);
    refilled
        .update_with_descriptor_unchecked(&descriptor)
        .ok()?;
    if refilled != *input {
        return None;
    }
    if script.is_p2tr() && input.non_witness_utxo.is_none() {
        hint.amount = Some(previous.value);
    }
    Some(hint)
}

fn output_hint(deriver: &mut Deriver<'_>, psbt: &Psbt, i: usize) -> Option<Hint> {
    let output = &psbt.outputs[i];
    let script = &psbt.unsigned_tx.output[i].script_pubkey;
    let claims = output
        .bip32_derivation
        .values()
        .chain(output.tap_key_origins.values().map(|(_, origin)| origin));
    let (hint, at) = verified_path(deriver, script, claims)?;
    let descriptor = deriver.policy.descriptor(at.tier).at(hint.chain, at.index);
    let mut refilled = output.clone();
    clear_output(&mut refilled);
    refilled
        .update_with_descriptor_unchecked(&descriptor)
        .ok()?;
    (refilled == *output).then_some(hint)
}

/// The compact form, serialized, of the full PSBT in `data` (base64 or
/// binary, version 0 or 2): what QR frames carry under `--qr-compact`.
pub fn strip_bytes(data: &[u8], policy: &VaultPolicy) -> Result<Vec<u8>, CompactError> {
    let doc = crate::psbt::PsbtDocument::from_bytes(data)?;
    Ok(strip(doc.psbt(), policy)?.serialize())
}

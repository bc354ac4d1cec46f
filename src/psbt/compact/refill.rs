//! Re-filling: what a signer (or the coordinator) does with a compact PSBT
//! before anything reviews it.

use bitcoin::{Psbt, TxOut};
use miniscript::psbt::{PsbtInputExt, PsbtOutputExt};

use super::marker::Hint;
use super::{
    input_has_derived, output_has_derived, previous_output, CompactError, CompactPsbt, Place,
};
use crate::policy::VaultPolicy;
use crate::psbt::derive::VaultPath;
use crate::psbt::fields::{compact_marker_key, policy_tag, PolicyTag};

/// The full PSBT, every stripped field re-derived from `policy`.
///
/// Refused unless the compact PSBT names `policy` (in its marker and in its
/// policy id field), every hint names a wallet of the policy at an index
/// within its `max_index`, every hinted input or output carries none of the
/// fields the hint re-derives, and the script re-derived at each hint is the
/// input's previous output script (or the output's script). The result is
/// the PSBT that was stripped, byte for byte, and is reviewed like any other.
pub fn refill(compact: &CompactPsbt, policy: &VaultPolicy) -> Result<Psbt, CompactError> {
    let given = policy.id();
    let named = compact.marker.policy_id;
    if named != given {
        return Err(CompactError::PolicyMismatch { named, given });
    }
    match policy_tag(&compact.psbt) {
        PolicyTag::Present(id) if id == given => {}
        PolicyTag::Present(named) => return Err(CompactError::PolicyMismatch { named, given }),
        PolicyTag::Missing | PolicyTag::Malformed => return Err(CompactError::Untagged),
    }
    let mut psbt = compact.psbt.clone();
    psbt.proprietary.remove(&compact_marker_key());
    for (i, hint) in compact.marker.inputs.iter().enumerate() {
        let Some(hint) = *hint else { continue };
        let place = Place::Input(i);
        let at = in_range(policy, hint, place)?;
        let input = &psbt.inputs[i];
        let previous_left_out = input.witness_utxo.is_none() && input.non_witness_utxo.is_none();
        if input_has_derived(input) || (hint.amount.is_some() && !previous_left_out) {
            return Err(CompactError::NotStripped { place });
        }
        let descriptor = policy.descriptor(at.tier).at(hint.chain, at.index);
        let derived = psbt.inputs[i]
            .update_with_descriptor_unchecked(&descriptor)
            .map_err(|_| CompactError::ScriptMismatch { place, at })?
            .script_pubkey();
        match hint.amount {
            // The previous output is the one the hint re-derives: a taproot
            // signature commits to its script and amount, so a false hint
            // yields only signatures that no transaction accepts.
            Some(value) if derived.is_p2tr() => {
                psbt.inputs[i].witness_utxo = Some(TxOut {
                    value,
                    script_pubkey: derived,
                });
            }
            Some(_) => return Err(CompactError::PreviousOutputNeeded { place }),
            // Checked after the update only to derive once: on a mismatch
            // the whole PSBT is dropped.
            None if previous_output(&psbt, i)?.script_pubkey != derived => {
                return Err(CompactError::ScriptMismatch { place, at })
            }
            None => {}
        }
    }
    for (i, hint) in compact.marker.outputs.iter().enumerate() {
        let Some(hint) = *hint else { continue };
        let place = Place::Output(i);
        let at = in_range(policy, hint, place)?;
        if output_has_derived(&psbt.outputs[i]) {
            return Err(CompactError::NotStripped { place });
        }
        let descriptor = policy.descriptor(at.tier).at(hint.chain, at.index);
        let derived = psbt.outputs[i]
            .update_with_descriptor_unchecked(&descriptor)
            .map_err(|_| CompactError::ScriptMismatch { place, at })?;
        if derived.script_pubkey() != psbt.unsigned_tx.output[i].script_pubkey {
            return Err(CompactError::ScriptMismatch { place, at });
        }
    }
    Ok(psbt)
}

/// [`refill`] of a compact PSBT given as base64 text or binary.
pub fn refill_bytes(data: &[u8], policy: &VaultPolicy) -> Result<Psbt, CompactError> {
    refill(&CompactPsbt::from_bytes(data)?, policy)
}

/// The vault path a hint names, if its index is in the policy's range.
fn in_range(policy: &VaultPolicy, hint: Hint, place: Place) -> Result<VaultPath, CompactError> {
    let range = policy.rules().addresses();
    match u32::try_from(hint.index) {
        Ok(index) if range.contains(index) => Ok(VaultPath {
            tier: hint.tier,
            chain: hint.chain.index(),
            index,
        }),
        _ => Err(CompactError::IndexBeyondRange {
            place,
            tier: hint.tier,
            index: hint.index,
            max_index: range.max_index(),
        }),
    }
}

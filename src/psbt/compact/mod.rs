//! Compact PSBTs: a PSBT with everything stripped that a signer holding the
//! registered policy re-derives itself, so that it travels in fewer QR
//! frames; and re-filling it, byte for byte, before anyone reviews it.
//!
//! The format is specified in `docs/qr-compact.md`. In short: on every input
//! and output of the vault's wallets whose BIP-32 derivations and scripts are
//! exactly what the policy's descriptor at (chain, index) derives, those
//! fields are removed and a hint (wallet, chain, index) is written into one
//! proprietary global field, the compact marker, which also names the policy.
//! Everything else stays: the transaction, `witness_utxo` and full previous
//! transactions (what the sighash and the fee check need), signatures,
//! approvals, the policy id and fields of other programs.
//!
//! ```no_run
//! # fn demo(policy: &custodia::policy::VaultPolicy, psbt: &bitcoin::Psbt)
//! # -> Result<(), custodia::psbt::compact::CompactError> {
//! use custodia::psbt::compact::{refill, strip, CompactPsbt};
//! // The coordinator, before it shows the QR frames:
//! let bytes = strip(psbt, policy)?.serialize();
//! // The signer, after it scanned them; `refill` refuses what the
//! // registered policy does not re-derive:
//! let full = refill(&CompactPsbt::from_bytes(&bytes)?, policy)?;
//! assert_eq!(&full, psbt);
//! # Ok(()) }
//! ```
//!
//! A compact PSBT is never reviewed as it is: [`crate::psbt::PsbtDocument`]
//! refuses to read one ([`crate::psbt::PsbtError::Compact`]), and the
//! review's `policy-id` rule fails on one.

mod error;
mod marker;
mod received;
mod refill;
mod strip;

use bitcoin::psbt::{Input, Output};
use bitcoin::{Psbt, TxOut};

pub use crate::psbt::fields::is_compact;
pub use error::{CompactError, MarkerFault, Place};
use marker::Marker;
pub use received::Received;
pub use refill::{refill, refill_bytes};
pub use strip::{strip, strip_bytes};

use crate::policy::PolicyId;

/// A PSBT in compact form, its marker read and checked against the
/// transaction (one hint per input and output, every hint naming a wallet
/// and chain of a vault). Whether the hints re-derive is only known when
/// [`refill`] checks them against a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactPsbt {
    psbt: Psbt,
    marker: Marker,
}

impl CompactPsbt {
    /// A parsed PSBT that carries a compact marker.
    pub fn from_psbt(psbt: Psbt) -> Result<CompactPsbt, CompactError> {
        let marker = Marker::read(&psbt)?;
        Ok(CompactPsbt { psbt, marker })
    }

    /// Reads a compact PSBT from base64 text or binary, as strictly as
    /// [`crate::psbt::PsbtDocument`] reads a full one.
    pub fn from_bytes(data: &[u8]) -> Result<CompactPsbt, CompactError> {
        Self::from_psbt(crate::psbt::read::parse_any(data)?)
    }

    /// The compact PSBT (BIP-174 v0).
    pub fn psbt(&self) -> &Psbt {
        &self.psbt
    }

    /// The policy it must be re-filled against.
    pub fn policy_id(&self) -> PolicyId {
        self.marker.policy_id
    }

    /// How many inputs and outputs were stripped (carry a hint).
    pub fn stripped(&self) -> (usize, usize) {
        let count = |h: &[Option<marker::Hint>]| h.iter().flatten().count();
        (count(&self.marker.inputs), count(&self.marker.outputs))
    }

    /// The BIP-174 serialization: what goes into the QR encoder.
    pub fn serialize(&self) -> Vec<u8> {
        self.psbt.serialize()
    }
}

/// Whether an input carries any field a descriptor re-derives (what
/// miniscript's `update_with_descriptor` writes).
fn input_has_derived(input: &Input) -> bool {
    !input.bip32_derivation.is_empty()
        || !input.tap_key_origins.is_empty()
        || input.tap_internal_key.is_some()
        || input.tap_merkle_root.is_some()
        || !input.tap_scripts.is_empty()
        || input.witness_script.is_some()
        || input.redeem_script.is_some()
}

/// Removes the fields of an input that a descriptor re-derives.
fn clear_input(input: &mut Input) {
    input.bip32_derivation.clear();
    input.tap_key_origins.clear();
    input.tap_internal_key = None;
    input.tap_merkle_root = None;
    input.tap_scripts.clear();
    input.witness_script = None;
    input.redeem_script = None;
}

/// Whether an output carries any field a descriptor re-derives.
fn output_has_derived(output: &Output) -> bool {
    !output.bip32_derivation.is_empty()
        || !output.tap_key_origins.is_empty()
        || output.tap_internal_key.is_some()
        || output.tap_tree.is_some()
        || output.witness_script.is_some()
        || output.redeem_script.is_some()
}

/// Removes the fields of an output that a descriptor re-derives.
fn clear_output(output: &mut Output) {
    output.bip32_derivation.clear();
    output.tap_key_origins.clear();
    output.tap_internal_key = None;
    output.tap_tree = None;
    output.witness_script = None;
    output.redeem_script = None;
}

/// The previous output input `i` spends, as far as the PSBT proves it: from
/// the full previous transaction if there is one (which must match the
/// outpoint and the `witness_utxo`), else the `witness_utxo`.
fn previous_output(psbt: &Psbt, i: usize) -> Result<&TxOut, CompactError> {
    let place = Place::Input(i);
    let input = &psbt.inputs[i];
    let outpoint = psbt.unsigned_tx.input[i].previous_output;
    match (&input.non_witness_utxo, &input.witness_utxo) {
        (Some(tx), witness) => {
            let out = (tx.compute_txid() == outpoint.txid)
                .then(|| tx.output.get(outpoint.vout as usize))
                .flatten()
                .ok_or(CompactError::PreviousOutputMismatch { place })?;
            if witness.as_ref().is_some_and(|w| w != out) {
                return Err(CompactError::PreviousOutputMismatch { place });
            }
            Ok(out)
        }
        (None, Some(out)) => Ok(out),
        (None, None) => Err(CompactError::MissingPreviousOutput { place }),
    }
}

#[cfg(test)]
mod tests;

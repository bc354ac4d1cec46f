//! Naming one signature field of a PSBT input, so that writing the PSBT
//! back can allow exactly that field to change.

use bitcoin::hashes::Hash;
use bitcoin::taproot::TapLeafHash;
use bitcoin::XOnlyPublicKey;

use super::raw::{IN_PARTIAL_SIG, IN_TAP_SCRIPT_SIG};

/// One signature field of one input, named by its key. A signer that finds a
/// signature for its own key that does not verify replaces it, and names the
/// field so that writing back allows exactly that change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureSlot {
    /// An ECDSA `partial_sigs` entry (segwit v0).
    Ecdsa {
        /// The input.
        input: usize,
        /// The public key signed for.
        pubkey: bitcoin::PublicKey,
    },
    /// A `tap_script_sigs` entry (taproot script path).
    TapScript {
        /// The input.
        input: usize,
        /// The x-only key signed for.
        key: XOnlyPublicKey,
        /// The leaf signed in.
        leaf: TapLeafHash,
    },
}

impl SignatureSlot {
    /// The input the field belongs to.
    pub fn input(&self) -> usize {
        match self {
            SignatureSlot::Ecdsa { input, .. } | SignatureSlot::TapScript { input, .. } => *input,
        }
    }

    /// The input index and the field's key bytes (BIP-174, BIP-371).
    pub(super) fn raw_key(&self) -> (usize, Vec<u8>) {
        match self {
            SignatureSlot::Ecdsa { input, pubkey } => {
                let mut key = vec![IN_PARTIAL_SIG];
                key.extend(pubkey.to_bytes());
                (*input, key)
            }
            SignatureSlot::TapScript { input, key, leaf } => {
                let mut raw = vec![IN_TAP_SCRIPT_SIG];
                raw.extend(key.serialize());
                raw.extend(leaf.to_byte_array());
                (*input, raw)
            }
        }
    }
}

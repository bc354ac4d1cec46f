//! Why a PSBT could not be stripped to compact form or re-filled from it.
//! Every one is bad input (exit 2): nothing was reviewed, and a compact PSBT
//! that cannot be re-filled from the registered policy is never reviewed.

use std::fmt;

use crate::error::{Classify, ExitCode};
use crate::policy::{PolicyId, Tier};
use crate::psbt::{PsbtError, VaultPath};

/// An input or an output of the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Input N.
    Input(usize),
    /// Output N.
    Output(usize),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Input(i) => write!(f, "input {i}"),
            Place::Output(i) => write!(f, "output {i}"),
        }
    }
}

/// What is wrong with the bytes of a compact marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MarkerFault {
    /// The marker's key carries key data (it has none).
    #[error("its key carries key data")]
    KeyData,
    /// A format this release does not know.
    #[error("it is in format {0}, this release reads formats 1 and 2")]
    UnknownFormat(u8),
    /// The value ends in the middle of a field.
    #[error("it is truncated")]
    Truncated,
    /// A size or index is not encoded in its shortest form.
    #[error("it encodes a size or index in a non-minimal form")]
    NonMinimalSize,
    /// Bytes after the last hint.
    #[error("it has {0} bytes after its last hint")]
    TrailingBytes(usize),
    /// Not one hint per input.
    #[error("it holds {hints} input hints for {inputs} inputs")]
    InputCount {
        /// Hints in the marker.
        hints: u64,
        /// Inputs in the transaction.
        inputs: usize,
    },
    /// Not one hint per output.
    #[error("it holds {hints} output hints for {outputs} outputs")]
    OutputCount {
        /// Hints in the marker.
        hints: u64,
        /// Outputs in the transaction.
        outputs: usize,
    },
}

/// A PSBT that could not be stripped or re-filled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompactError {
    /// `refill` was given a PSBT without a compact marker.
    #[error("the PSBT is not compact (it carries no compact marker); read and review it as it is")]
    NotCompact,
    /// `strip` was given a PSBT that is compact already.
    #[error("the PSBT is compact already; strip only a full PSBT")]
    AlreadyCompact,
    /// The PSBT names no policy, or a malformed policy id.
    #[error("the PSBT names no well-formed policy id; have the coordinator tag it with its policy before compacting")]
    Untagged,
    /// The PSBT (its policy id field or its compact marker) names another
    /// policy than the one given.
    #[error("the PSBT is for policy {named}, not {given}; re-fill it on a machine that registered policy {named}")]
    PolicyMismatch {
        /// The policy the PSBT names.
        named: PolicyId,
        /// The policy given to strip or re-fill with.
        given: PolicyId,
    },
    /// The compact marker does not read.
    #[error("the compact marker is malformed: {0}; export the compact PSBT again")]
    Marker(#[from] MarkerFault),
    /// A hint names a wallet and chain the policy does not have.
    #[error("{place}: its hint (code 0x{code:02x}) names no wallet of the vault; the compact PSBT was damaged or tampered with")]
    UnknownWallet {
        /// Where.
        place: Place,
        /// The hint's wallet code.
        code: u8,
    },
    /// A hint names an index beyond the policy's address range.
    #[error("{place}: its hint names {tier} index {index}, beyond the policy's max_index {max_index}; refusing to re-derive there")]
    IndexBeyondRange {
        /// Where.
        place: Place,
        /// The wallet named.
        tier: Tier,
        /// The index named.
        index: u64,
        /// The policy's `max_index`.
        max_index: u32,
    },
    /// The script re-derived at the hint is not the input's previous output
    /// script (or the output's script).
    #[error("{place}: the script the policy derives at {} chain {} index {} is not its script; the compact PSBT was damaged or tampered with", .at.tier, .at.chain, .at.index)]
    ScriptMismatch {
        /// Where.
        place: Place,
        /// The vault path the hint named.
        at: VaultPath,
    },
    /// A hint gives a previous output's amount beyond the 21 million
    /// bitcoin that can exist.
    #[error("{place}: its hint gives its previous output {sat} satoshis, more than can exist; the compact PSBT was damaged or tampered with")]
    ImpossibleAmount {
        /// Where.
        place: Place,
        /// The amount named.
        sat: u64,
    },
    /// A hint left out the previous output of an input that is not taproot.
    /// Only a taproot signature commits to every input's previous output
    /// script and amount (BIP-341), so only there may they be re-derived
    /// rather than stated.
    #[error("{place}: its hint leaves out the previous output of a segwit v0 input; only taproot previous outputs may be left out, export the compact PSBT again")]
    PreviousOutputNeeded {
        /// Where.
        place: Place,
    },
    /// A hinted input carries no previous output to check the hint against.
    #[error("{place}: it carries no previous output (witness_utxo or full previous transaction) to check its hint against")]
    MissingPreviousOutput {
        /// Where.
        place: Place,
    },
    /// A hinted input's full previous transaction contradicts its outpoint
    /// or its witness_utxo.
    #[error(
        "{place}: its full previous transaction does not match its outpoint or its witness_utxo"
    )]
    PreviousOutputMismatch {
        /// Where.
        place: Place,
    },
    /// A hinted input or output still carries fields the hint re-derives, so
    /// re-filling would merge them with what the PSBT claims.
    #[error("{place}: it has a hint yet still carries derivation or script fields; the compact PSBT was damaged or tampered with")]
    NotStripped {
        /// Where.
        place: Place,
    },
    /// The bytes are not a PSBT custodia reads.
    #[error(transparent)]
    Psbt(#[from] PsbtError),
}

impl Classify for CompactError {
    fn exit_code(&self) -> ExitCode {
        match self {
            CompactError::Psbt(e) => e.exit_code(),
            _ => ExitCode::BadInput,
        }
    }
}

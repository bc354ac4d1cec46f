//! Proof of control, in the style of BIP-127 (proof of reserves): a PSBT
//! that spends every coin of one tier together with a **challenge input**
//! committing to an auditor's message, into one output nobody can spend.
//!
//! The challenge input spends output 0 of the "transaction" whose txid is
//! `SHA256d("Proof-of-Reserves: " ‖ message)`. No transaction has that id
//! (finding one would break SHA-256), so the signed PSBT can never become a
//! valid transaction, yet every vault input carries the quorum's signatures
//! over it (SIGHASH_ALL commits to every input, the challenge included).
//! Whoever checks the signatures against the UTXO set learns that the
//! quorum controls those coins now, for this message, which it could not
//! have signed before the auditor chose it.
//!
//! custodia carries the message in a proprietary global field (subtype
//! `0x04`), so a signer shows what it signs and checks the challenge itself.
//! The challenge input carries a `witness_utxo` of value 0 paying a bare
//! `OP_RETURN`, so the taproot sighash, which commits to every spent amount
//! and script, can be computed. BDK's proof-of-reserves puts `OP_TRUE`
//! there, which Bitcoin Core's `finalizepsbt` completes with an empty
//! script into a "complete" transaction; no finalizer can satisfy
//! `OP_RETURN`, so a custodia proof never even looks like a transaction.

use std::fmt;

use bitcoin::hashes::{hash160, sha256d, Hash};
use bitcoin::opcodes::all::OP_RETURN;
use bitcoin::psbt::raw::ProprietaryKey;
use bitcoin::psbt::Input;
use bitcoin::script::Builder;
use bitcoin::{
    absolute, transaction, Amount, OutPoint, Psbt, PubkeyHash, ScriptBuf, Sequence, Transaction,
    TxIn, TxOut, Txid, Witness,
};

use super::classify::{Finding, InputReview, OutputReview};
use super::fields::PREFIX;
use crate::policy::rules::{judge, RuleCheck, RuleId};

/// Subtype of the proof-of-control message field: empty key data, the
/// message (UTF-8) as value.
pub const SUBTYPE_PROOF_MESSAGE: u8 = 0x04;

/// What BIP-127 puts before the message in the challenge.
pub const CHALLENGE_PREFIX: &str = "Proof-of-Reserves: ";

/// The longest message accepted, in bytes: enough for a sentence, a date
/// and a nonce; short enough to show whole on a signer's screen.
pub const MAX_MESSAGE_LEN: usize = 256;

/// An auditor's challenge message: 1 to 256 bytes of UTF-8 without control
/// characters, so that what a signer shows is exactly what is committed to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct ProofMessage(String);

/// A text that cannot be a challenge message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadProofMessage {
    /// Empty (or only white space).
    #[error("the proof message is empty; use the auditor's challenge, e.g. a date and a nonce")]
    Empty,
    /// Longer than [`MAX_MESSAGE_LEN`].
    #[error("the proof message is {0} bytes long; at most {MAX_MESSAGE_LEN} are accepted")]
    TooLong(usize),
    /// Holds a control character (a line break, an escape sequence).
    #[error("the proof message holds a control character; give it on one line of plain text")]
    ControlCharacter,
    /// The PSBT's field is not UTF-8 or has key data.
    #[error("the PSBT's proof message field is malformed")]
    Malformed,
}

impl crate::error::Classify for BadProofMessage {
    fn exit_code(&self) -> crate::error::ExitCode {
        crate::error::ExitCode::BadInput
    }
}

impl ProofMessage {
    /// The message, checked.
    pub fn new(text: &str) -> Result<ProofMessage, BadProofMessage> {
        if text.trim().is_empty() {
            return Err(BadProofMessage::Empty);
        }
        if text.len() > MAX_MESSAGE_LEN {
            return Err(BadProofMessage::TooLong(text.len()));
        }
        if text.chars().any(char::is_control) {
            return Err(BadProofMessage::ControlCharacter);
        }
        Ok(ProofMessage(text.to_owned()))
    }

    /// The message as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The outpoint the challenge input spends: output 0 of the txid
    /// `SHA256d("Proof-of-Reserves: " ‖ message)`.
    pub fn challenge(&self) -> OutPoint {
        let committed = format!("{CHALLENGE_PREFIX}{}", self.0);
        let hash = sha256d::Hash::hash(committed.as_bytes());
        OutPoint::new(Txid::from_raw_hash(hash), 0)
    }
}

impl std::str::FromStr for ProofMessage {
    type Err = BadProofMessage;
    fn from_str(s: &str) -> Result<Self, BadProofMessage> {
        ProofMessage::new(s)
    }
}

impl fmt::Display for ProofMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The only output a proof may have: pay-to-pubkey-hash of `HASH160(0x00)`,
/// a hash no public key is known to have (BIP-127's choice).
pub fn unspendable_script() -> ScriptBuf {
    ScriptBuf::new_p2pkh(&PubkeyHash::from_raw_hash(hash160::Hash::hash(&[0])))
}

/// The previous output the challenge input claims: nothing, to a script
/// no witness or signature satisfies.
fn challenge_output() -> TxOut {
    TxOut {
        value: Amount::ZERO,
        script_pubkey: Builder::new().push_opcode(OP_RETURN).into_script(),
    }
}

fn message_key() -> ProprietaryKey {
    ProprietaryKey {
        prefix: PREFIX.to_vec(),
        subtype: SUBTYPE_PROOF_MESSAGE,
        key: Vec::new(),
    }
}

/// The proof message a PSBT carries: `None` for an ordinary PSBT.
pub fn proof_message(psbt: &Psbt) -> Option<Result<ProofMessage, BadProofMessage>> {
    let (key, value) = psbt
        .proprietary
        .iter()
        .find(|(k, _)| k.prefix == PREFIX && k.subtype == SUBTYPE_PROOF_MESSAGE)?;
    if !key.key.is_empty() {
        return Some(Err(BadProofMessage::Malformed));
    }
    Some(match std::str::from_utf8(value) {
        Ok(text) => ProofMessage::new(text),
        Err(_) => Err(BadProofMessage::Malformed),
    })
}

/// The unsigned proof of control over `coins` (each the outpoint and the
/// PSBT input its wallet fills in, with the value it holds): the challenge
/// first, then the coins in the order given, one output paying their whole
/// value to [`unspendable_script`]. The caller tags it with its policy id.
pub fn build(message: &ProofMessage, coins: Vec<(OutPoint, Amount, Input)>) -> Psbt {
    let total: Amount = coins.iter().map(|(_, value, _)| *value).sum();
    let txin = |previous_output| TxIn {
        previous_output,
        script_sig: ScriptBuf::new(),
        sequence: Sequence::MAX,
        witness: Witness::new(),
    };
    let mut input = vec![txin(message.challenge())];
    input.extend(coins.iter().map(|(outpoint, _, _)| txin(*outpoint)));
    let tx = Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input,
        output: vec![TxOut {
            value: total,
            script_pubkey: unspendable_script(),
        }],
    };
    let mut psbt = Psbt::from_unsigned_tx(tx).expect("a new transaction carries no signatures");
    psbt.inputs[0] = Input {
        witness_utxo: Some(challenge_output()),
        ..Input::default()
    };
    for (slot, (_, _, filled)) in psbt.inputs[1..].iter_mut().zip(coins) {
        *slot = filled;
    }
    psbt.proprietary
        .insert(message_key(), message.as_str().as_bytes().to_vec());
    psbt
}

/// Why input 0 of a PSBT that carries a proof message is not its challenge,
/// if it is not.
fn challenge_problem(psbt: &Psbt, message: &ProofMessage) -> Option<&'static str> {
    let (Some(txin), Some(input)) = (psbt.unsigned_tx.input.first(), psbt.inputs.first()) else {
        return Some("the PSBT has no inputs");
    };
    if txin.previous_output != message.challenge() {
        return Some("input 0 does not spend the challenge of the PSBT's proof message");
    }
    let bare = Input {
        witness_utxo: Some(challenge_output()),
        ..Input::default()
    };
    if *input != bare {
        return Some("the challenge input carries more than its zero-value OP_RETURN output (a signature, a script, a derivation?)");
    }
    None
}

/// Recognizes the challenge among reviewed inputs: for a PSBT carrying a
/// proof message whose input 0 is exactly that message's challenge, input 0
/// is marked as the challenge and its findings (it spends nothing of the
/// vault) are dropped. Otherwise input 0 gains a finding, and the PSBT is no
/// proof. Returns the message of a recognized proof.
pub(crate) fn mark_challenge(psbt: &Psbt, inputs: &mut [InputReview]) -> Option<ProofMessage> {
    let message = proof_message(psbt)?;
    let problem = match &message {
        Ok(m) => challenge_problem(psbt, m),
        Err(_) => Some("the PSBT's proof message field is malformed"),
    };
    let first = inputs.first_mut()?;
    match (message, problem) {
        (Ok(m), None) => {
            first.findings.clear();
            first.challenge = true;
            Some(m)
        }
        (_, Some(reason)) => {
            first.findings.push(Finding {
                rule: RuleId::InputsFromVault,
                reason: reason.into(),
            });
            None
        }
        (Err(_), None) => None,
    }
}

/// The `destinations` rule for a proof of control: exactly one output,
/// paying the unspendable script everything the inputs hold (no fee: the
/// transaction is never mined, and a fee would be value that leaves).
pub(crate) fn check_outputs(outputs: &[OutputReview], input_total: Option<u64>) -> RuleCheck {
    let rule = RuleId::Destinations;
    let [only] = outputs else {
        return judge(
            rule,
            false,
            format!(
                "a proof of control has exactly one output; this one has {}",
                outputs.len()
            ),
        );
    };
    if only.script != unspendable_script() {
        return judge(
            rule,
            false,
            "the proof's output could be spent: it must pay the unspendable HASH160(0x00) script",
        );
    }
    match input_total {
        Some(total) if total == only.amount.to_sat() => judge(
            rule,
            true,
            "one output to the unspendable script, worth every input: nothing can be spent",
        ),
        _ => judge(
            rule,
            false,
            "the proof's output is not worth exactly what its inputs hold",
        ),
    }
}

mod verify;
pub use verify::{verify, CoinStatus, ProofError, ProofNotProven, ProofVerification, ProvenCoin};

#[cfg(test)]
mod tests;

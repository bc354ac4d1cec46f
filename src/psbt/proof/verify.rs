//! The auditor's side of a proof of control: the proof answers the
//! auditor's message, passes the signers' review, every coin it signs for
//! is in the UTXO set as the proof claims, and every vault input's
//! signatures complete its script (checked by running the script, not by
//! counting signatures).

use bitcoin::{Amount, BlockHash, OutPoint, Psbt, Txid};
use miniscript::psbt::PsbtExt;
use serde::Serialize;

use super::{proof_message, BadProofMessage, ProofMessage};
use crate::audit::{now_unix, UnspentOutputs};
use crate::policy::rules::RuleCheck;
use crate::policy::{Tier, VaultPolicy};
use crate::psbt::{DailySpending, LimitScope, Review};

/// A PSBT that cannot be checked as a proof of control at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// It carries no proof message: an ordinary PSBT.
    #[error("the PSBT is not a proof of control (it carries no proof message); have the coordinator make one with `propose proof`")]
    NotAProof,
    /// Its proof message field is malformed.
    #[error(transparent)]
    Message(#[from] BadProofMessage),
    /// The node could not answer.
    #[error("the node could not look a coin up: {0}")]
    Node(Box<dyn std::error::Error + Send + Sync>),
}

impl crate::error::Classify for ProofError {
    fn exit_code(&self) -> crate::error::ExitCode {
        match self {
            ProofError::Node(_) => crate::error::ExitCode::NodeOrIo,
            _ => crate::error::ExitCode::BadInput,
        }
    }
}

/// A proof of control that does not hold (exit 1).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the proof of control {txid} does not hold: see the findings above")]
pub struct ProofNotProven {
    /// The proof's txid.
    pub txid: Txid,
}

impl crate::error::Classify for ProofNotProven {
    fn exit_code(&self) -> crate::error::ExitCode {
        crate::error::ExitCode::Refused
    }
}

/// What was found of one coin the proof signs for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status", content = "reason")]
pub enum CoinStatus {
    /// Unspent as claimed, and the quorum's signatures complete its script.
    Proven,
    /// Not in the UTXO set: spent, or it never existed.
    NotUnspent,
    /// In the UTXO set with another amount or script than the proof claims.
    Differs,
    /// The signatures do not complete its script (too few, or invalid).
    Unsigned(String),
}

/// One coin of the proof.
#[derive(Debug, Clone, Serialize)]
pub struct ProvenCoin {
    /// Its input in the proof.
    pub input: usize,
    /// The coin.
    pub outpoint: OutPoint,
    /// Its amount as the proof claims it.
    #[serde(rename = "amount_sat", with = "bitcoin::amount::serde::as_sat::opt")]
    pub amount: Option<Amount>,
    /// What was found.
    #[serde(flatten)]
    pub status: CoinStatus,
}

/// The auditor's verdict on a proof of control.
#[derive(Debug, Clone, Serialize)]
pub struct ProofVerification {
    /// The message asked for.
    pub message: ProofMessage,
    /// The message the proof answers.
    pub carried: ProofMessage,
    /// The tier whose quorum signed.
    pub tier: Option<Tier>,
    /// The proof's txid (of a transaction that can never exist).
    pub txid: Txid,
    /// The tip the coins were looked up at.
    pub tip_height: u64,
    /// Its hash.
    pub tip_hash: BlockHash,
    /// Every coin signed for.
    pub coins: Vec<ProvenCoin>,
    /// What the proven coins hold.
    #[serde(rename = "proven_sat", with = "bitcoin::amount::serde::as_sat")]
    pub proven: Amount,
    /// Rules of the signers' review that fail (a signer would not have
    /// signed it: an output someone could spend, a coin outside the vault).
    pub review_failures: Vec<RuleCheck>,
}

impl ProofVerification {
    /// Whether the proof holds: it answers the message, passes the review,
    /// and proves every coin it names.
    pub fn holds(&self) -> bool {
        self.message == self.carried
            && self.review_failures.is_empty()
            && !self.coins.is_empty()
            && self.coins.iter().all(|c| c.status == CoinStatus::Proven)
    }

    /// The finding to exit with when the proof does not hold.
    pub fn finding(&self) -> Option<ProofNotProven> {
        (!self.holds()).then_some(ProofNotProven { txid: self.txid })
    }

    /// The verdict for people.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "proof of control {} for the message \"{}\"\nchecked against the UTXO set at height {} ({})\n",
            self.txid, self.carried, self.tip_height, self.tip_hash
        );
        if self.message != self.carried {
            s.push_str(&format!(
                "FINDING: the proof answers another message than \"{}\"; it may have been made before the challenge\n",
                self.message
            ));
        }
        for f in &self.review_failures {
            s.push_str(&format!("FINDING: {} ({})\n", f.reason, f.rule.as_str()));
        }
        for c in &self.coins {
            let what = match &c.status {
                CoinStatus::Proven => "proven".to_owned(),
                CoinStatus::NotUnspent => "FINDING: not in the UTXO set (spent?)".to_owned(),
                CoinStatus::Differs => {
                    "FINDING: the UTXO set holds another amount or script".to_owned()
                }
                CoinStatus::Unsigned(why) => format!("FINDING: signatures do not hold: {why}"),
            };
            let amount = c.amount.map_or("?".into(), crate::policy::btc);
            s.push_str(&format!(
                "  input {} {} {amount}: {what}\n",
                c.input, c.outpoint
            ));
        }
        let tier = self.tier.map_or("vault".to_owned(), |t| t.to_string());
        s.push_str(&match self.holds() {
            true => format!(
                "PROVEN: the {tier} quorum controls {} in {} coin(s)\n",
                crate::policy::btc(self.proven),
                self.coins.len()
            ),
            false => "NOT PROVEN\n".to_owned(),
        });
        s
    }
}

/// Verifies `psbt` as a proof of control of `policy`'s coins for `message`
/// against the UTXO set of `utxos`.
pub fn verify<U: UnspentOutputs>(
    policy: &VaultPolicy,
    psbt: &Psbt,
    message: &ProofMessage,
    utxos: &U,
) -> Result<ProofVerification, ProofError> {
    let carried = proof_message(psbt).ok_or(ProofError::NotAProof)??;
    let node = |e: U::Error| ProofError::Node(Box::new(e));
    let (tip_height, tip_hash) = utxos.tip().map_err(node)?;
    let review = Review::of(
        policy,
        psbt,
        &DailySpending::empty(LimitScope::Wallet, now_unix()),
    );
    let secp = bitcoin::secp256k1::Secp256k1::verification_only();
    let mut coins = Vec::new();
    for input in review.inputs().iter().filter(|i| !i.challenge) {
        let found = utxos.unspent(input.outpoint).map_err(node)?;
        let status = match (found, &input.spent) {
            (None, _) => CoinStatus::NotUnspent,
            (Some(utxo), Some(claimed)) if utxo == *claimed => {
                // Finalizing runs the script with the signatures given:
                // it fails unless a quorum of valid signatures completes it.
                let mut copy = psbt.clone();
                match copy.finalize_inp_mut(&secp, input.index) {
                    Ok(()) => CoinStatus::Proven,
                    Err(e) => CoinStatus::Unsigned(e.to_string()),
                }
            }
            (Some(_), _) => CoinStatus::Differs,
        };
        coins.push(ProvenCoin {
            input: input.index,
            outpoint: input.outpoint,
            amount: input.amount,
            status,
        });
    }
    let proven = coins
        .iter()
        .filter(|c| c.status == CoinStatus::Proven)
        .filter_map(|c| c.amount)
        .sum();
    Ok(ProofVerification {
        message: message.clone(),
        carried,
        tier: review.source(),
        txid: review.txid(),
        tip_height,
        tip_hash,
        coins,
        proven,
        review_failures: review.failures().cloned().collect(),
    })
}

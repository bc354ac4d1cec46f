//! `propose proof`: a proof of control of one tier's coins for an auditor's
//! message (see [`crate::psbt::proof`]). Signers sign it like any proposal;
//! it reserves no coin, is never finalized, and moves nothing.

use std::path::Path;

use bitcoin::Amount;

use crate::audit::{Event, Proposed};
use crate::policy::Tier;
use crate::psbt::proof::{self, ProofMessage};
use crate::psbt::{set_policy_id, DailySpending, LimitScope, Review};
use crate::transport::write_new_atomically;

use super::balance::percent;
use super::chain::ChainSource;
use super::error::{CoordinatorError, Refusal};
use super::node_chain::NodeOnDemand;
use super::proposal::{Proposal, ProposedOutput};
use super::vault::Coordinator;

impl Coordinator {
    /// `propose proof`: every confirmed coin of `tier` (those reserved by
    /// pending proposals too: they are still the vault's) behind the
    /// challenge of `message`, into one unspendable output.
    pub fn propose_proof(
        &self,
        tier: Tier,
        message: &ProofMessage,
        out: &Path,
    ) -> Result<Proposal, CoordinatorError> {
        self.propose_proof_on(&NodeOnDemand::new(self), tier, message, out)
    }

    /// [`Coordinator::propose_proof`] on `chain`.
    pub(crate) fn propose_proof_on(
        &self,
        chain: &dyn ChainSource,
        tier: Tier,
        message: &ProofMessage,
        out: &Path,
    ) -> Result<Proposal, CoordinatorError> {
        let (wallets, _) = self.prepare_proposal(chain, None, out)?;
        let wallet = wallets.tier(tier).wallet();
        // Unconfirmed coins may vanish before the auditor looks: a proof
        // covers what the chain holds.
        let mut coins: Vec<_> = wallet
            .list_unspent()
            .filter(|o| o.chain_position.is_confirmed())
            .collect();
        coins.sort_by_key(|o| o.outpoint);
        if coins.is_empty() {
            return Err(CoordinatorError::NothingToProve(tier));
        }
        let mut filled = Vec::with_capacity(coins.len());
        for coin in coins {
            let (outpoint, value) = (coin.outpoint, coin.txout.value);
            let input =
                wallet
                    .get_psbt_input(coin, None, false)
                    .map_err(|e| CoordinatorError::Build {
                        what: format!("proof of control of the {tier} wallet"),
                        reason: format!("cannot fill the input spending {outpoint}: {e}"),
                    })?;
            filled.push((outpoint, value, input));
        }
        let mut psbt = proof::build(message, filled);
        set_policy_id(&mut psbt, self.policy().id()).expect("a new PSBT names no policy");

        // A proof is never counted toward a limit, so no day's count is read.
        let spending = DailySpending::empty(LimitScope::Wallet, crate::audit::now_unix());
        let review = Review::of(self.policy(), &psbt, &spending);
        if !review.passes() {
            return Err(Refusal::Rules(review.failures().cloned().collect()).into());
        }
        let movement = review.movement().ok_or(Refusal::NotOneMovement)?;
        write_new_atomically(out, psbt.to_string().as_bytes())?;
        let outputs: Vec<ProposedOutput> = review
            .outputs()
            .iter()
            .map(|o| ProposedOutput {
                address: o.address.clone(),
                amount: o.amount,
                role: "unspendable".into(),
            })
            .collect();
        self.log(&Event::Proposal(Proposed {
            policy_id: self.policy().id(),
            movement,
            txid: review.txid(),
            amount: Amount::ZERO,
            fee: Amount::ZERO,
            outputs: outputs.clone(),
            file: out.display().to_string(),
            replaces: None,
            recovery: false,
        }))?;
        let balance = super::balance::VaultBalance::of(&wallets, self.policy().rules().ratio());
        Ok(Proposal {
            movement,
            txid: review.txid(),
            file: out.to_owned(),
            amount: Amount::ZERO,
            fee: Amount::ZERO,
            fee_rate_sat_vb: 0.0,
            vsize: review.vsize(),
            outputs,
            cold_percent_after: percent(balance.cold.total(), balance.total()),
            approvals_needed: 0,
            departments_needed: 0,
            note: Some(format!(
                "proves control of {} in {} {tier} coin(s) for the message \"{message}\"; it can never be mined: once signed, `combine` the copies and give the file to the auditor (`custodia-auditor verify-proof`)",
                crate::policy::btc(review.outputs().iter().map(|o| o.amount).sum()),
                review.inputs().len() - 1,
            )),
            replaces: None,
        })
    }
}

#[cfg(test)]
mod tests;

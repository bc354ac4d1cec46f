//! Fee bumps: a stuck vault transaction replaced (BIP-125) by one paying the
//! same outputs at a higher fee rate. The replacement has a new txid, so it
//! needs new approvals and signatures, and is reviewed like any proposal.

use std::path::Path;

use bdk_wallet::descriptor::Condition;
use bitcoin::{Amount, FeeRate, Txid};

use crate::policy::Tier;

use super::chain::ChainSource;
use super::error::CoordinatorError;
use super::node_chain::NodeOnDemand;
use super::proposal::Proposal;
use super::vault::Coordinator;

impl Coordinator {
    /// `propose bump`: replaces the unconfirmed vault transaction `txid`.
    pub fn propose_bump(
        &self,
        txid: Txid,
        fee_rate: FeeRate,
        out: &Path,
    ) -> Result<Proposal, CoordinatorError> {
        self.propose_bump_on(&NodeOnDemand::new(self), txid, fee_rate, out)
    }

    /// [`Coordinator::propose_bump`] on `chain`.
    pub(crate) fn propose_bump_on(
        &self,
        chain: &dyn ChainSource,
        txid: Txid,
        fee_rate: FeeRate,
        out: &Path,
    ) -> Result<Proposal, CoordinatorError> {
        let (mut wallets, fee_rate) = self.prepare_proposal(chain, Some(fee_rate), out)?;
        let from = Tier::ALL
            .into_iter()
            .find(|t| {
                let w = wallets.tier(*t).wallet();
                w.get_tx(txid)
                    .is_some_and(|tx| w.sent_and_received(&tx.tx_node.tx).0 > Amount::ZERO)
            })
            .ok_or_else(|| {
                CoordinatorError::BadArgument(format!(
                    "transaction {txid} does not spend from the vault as of the last sync; run `sync` and check the txid"
                ))
            })?;
        let psbt = {
            let wallet = wallets.tier_mut(from).wallet_mut();
            let build_error = |e: String| CoordinatorError::Build {
                what: format!("fee bump of {txid}"),
                reason: e,
            };
            let mut builder = wallet
                .build_fee_bump(txid)
                .map_err(|e| build_error(e.to_string()))?;
            builder
                .fee_rate(fee_rate)
                .set_condition(Condition::default());
            builder.finish().map_err(|e| build_error(e.to_string()))?
        };
        let mut proposal =
            self.complete_proposal(&mut wallets, from, psbt, fee_rate, Some(txid), out)?;
        proposal.note = Some(format!(
            "replaces {txid} at a higher fee; the replacement needs its own approvals and signatures"
        ));
        Ok(proposal)
    }
}

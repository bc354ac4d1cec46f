//! Consolidation: many small coins of one tier into one, while fees are low,
//! so that later payouts and transfers are small and cheap.

use std::path::Path;

use bdk_wallet::KeychainKind;
use bitcoin::{Amount, FeeRate};

use crate::policy::Tier;

use super::balance::btc;
use super::chain::ChainSource;
use super::error::CoordinatorError;
use super::node_chain::NodeOnDemand;
use super::proposal::Proposal;
use super::propose::Spend;
use super::vault::Coordinator;

/// Blocks before a coinbase output may be spent.
const COINBASE_MATURITY: u32 = 100;

impl Coordinator {
    /// `propose consolidate`: the tier's confirmed, unreserved coins (the
    /// `max_inputs` smallest, if given) into one new change address of the
    /// same tier. `None` when there are fewer than two such coins.
    pub fn propose_consolidate(
        &self,
        tier: Tier,
        max_inputs: Option<usize>,
        fee_rate: Option<FeeRate>,
        out: &Path,
    ) -> Result<Option<Proposal>, CoordinatorError> {
        self.propose_consolidate_on(&NodeOnDemand::new(self), tier, max_inputs, fee_rate, out)
    }

    /// [`Coordinator::propose_consolidate`] on `chain`.
    pub(crate) fn propose_consolidate_on(
        &self,
        chain: &dyn ChainSource,
        tier: Tier,
        max_inputs: Option<usize>,
        fee_rate: Option<FeeRate>,
        out: &Path,
    ) -> Result<Option<Proposal>, CoordinatorError> {
        let (mut wallets, fee_rate) = self.prepare_proposal(chain, fee_rate)?;
        let wallet = wallets.tier(tier).wallet();
        let tip = wallet.latest_checkpoint().height();
        let mut coins: Vec<_> = wallet
            .list_unspent()
            .filter(|o| !wallet.is_outpoint_locked(o.outpoint))
            .filter(
                |o| match o.chain_position.confirmation_height_upper_bound() {
                    None => false,
                    Some(height) => {
                        let coinbase = wallet
                            .get_tx(o.outpoint.txid)
                            .is_some_and(|t| t.tx_node.tx.is_coinbase());
                        !coinbase || tip + 1 - height >= COINBASE_MATURITY
                    }
                },
            )
            .map(|o| (o.txout.value, o.outpoint))
            .collect();
        coins.sort();
        if let Some(n) = max_inputs {
            coins.truncate(n);
        }
        if coins.len() < 2 {
            return Ok(None);
        }
        let total: Amount = coins.iter().map(|(v, _)| *v).sum();
        let dest = wallets
            .tier_mut(tier)
            .reveal_next_in_range(KeychainKind::Internal)?;
        let spend = Spend::Sweep {
            to: dest.address.script_pubkey(),
            coins: coins.iter().map(|(_, o)| *o).collect(),
        };
        let mut proposal = self.propose(&mut wallets, tier, spend, fee_rate, out)?;
        proposal.note = Some(format!(
            "consolidates {} {tier} coins worth {} into one",
            coins.len(),
            btc(total)
        ));
        Ok(Some(proposal))
    }
}

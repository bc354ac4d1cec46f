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
        let (mut wallets, fee_rate) = self.prepare_proposal(chain, fee_rate, out)?;
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use crate::coordinator::test_vault::{TestVault, BTC, FEE_RATE};
    use crate::policy::Tier;
    use crate::psbt::Movement;

    #[test]
    fn consolidation_takes_the_smallest_confirmed_unreserved_coins() {
        let v = TestVault::new();
        let small = v.fund(Tier::Hot, BTC / 10);
        let middle = v.fund(Tier::Hot, BTC / 5);
        let large = v.fund(Tier::Hot, 3 * BTC / 10);
        // Unconfirmed, and in the other tier: never picked.
        v.chain.add_to_mempool(v.payment(Tier::Hot, BTC / 100));
        v.fund(Tier::Cold, BTC / 50);
        let rate = Some(FEE_RATE);

        let p = v
            .coordinator
            .propose_consolidate_on(&v.chain, Tier::Hot, Some(2), rate, &v.file("c1.psbt"))
            .unwrap()
            .expect("two coins to consolidate");
        assert_eq!(p.movement, Movement::HotConsolidation);
        let psbt = v.read_psbt(&p.file);
        let spent: BTreeSet<_> = psbt
            .unsigned_tx
            .input
            .iter()
            .map(|i| i.previous_output)
            .collect();
        assert_eq!(spent, BTreeSet::from([small, middle]));
        assert_eq!(p.outputs.len(), 1);
        assert_eq!(p.outputs[0].role, "change");
        assert_eq!(p.outputs[0].amount.to_sat(), 3 * BTC / 10 - p.fee.to_sat());
        assert_eq!(
            p.note.as_deref(),
            Some("consolidates 2 hot coins worth 0.30000000 BTC into one")
        );

        // Those two are now reserved: one confirmed coin is left, too few.
        let none = v
            .coordinator
            .propose_consolidate_on(&v.chain, Tier::Hot, None, rate, &v.file("c2.psbt"))
            .unwrap();
        assert!(none.is_none());
        let reserved: BTreeSet<_> = v
            .coordinator
            .coins(Some(Tier::Hot))
            .unwrap()
            .into_iter()
            .filter(|c| c.reserved)
            .map(|c| c.outpoint)
            .collect();
        assert_eq!(reserved, BTreeSet::from([small, middle]));

        // Once the unconfirmed coin confirms, it and the large one qualify.
        v.chain.mine_mempool();
        let p = v
            .coordinator
            .propose_consolidate_on(&v.chain, Tier::Hot, None, rate, &v.file("c3.psbt"))
            .unwrap()
            .expect("two coins to consolidate");
        let psbt = v.read_psbt(&p.file);
        let spent: BTreeSet<_> = psbt
            .unsigned_tx
            .input
            .iter()
            .map(|i| i.previous_output)
            .collect();
        assert_eq!(spent.len(), 2);
        assert!(spent.contains(&large));
        assert_eq!(
            p.outputs[0].amount.to_sat(),
            31 * BTC / 100 - p.fee.to_sat()
        );
    }
}

//! Bringing the wallets up to the chain: blocks from the wallet's last
//! checkpoint to the tip, then the mempool. Reorgs are handled by the chain
//! source: when its chain no longer contains a block the wallet saw, it goes
//! back to the last common block and re-emits from there, and bdk drops what
//! the stale blocks confirmed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bitcoin::Transaction;
use rayon::prelude::*;
use serde::Serialize;

use crate::audit::utc_timestamp;
use crate::policy::Tier;

use super::chain::ChainSource;
use super::datadir::{DataDir, SyncState};
use super::error::CoordinatorError;
use super::node::Config;
use super::node_chain::NodeOnDemand;
use super::vault::Coordinator;
use super::wallets::{TierWallet, VaultWallets};
use crate::progress::SyncProgress;

/// Time spent applying blocks between two writes of the wallet databases:
/// a sync stopped midway keeps what it applied before its last write. Each
/// write is a commit the disk syncs, so they are counted in seconds of work
/// rather than in blocks, which may hold one transaction of the vault each.
const PERSIST_AFTER: Duration = Duration::from_secs(10);

/// What a sync did.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    /// Blocks applied per tier (more than the chain grew after a reorg).
    pub blocks_applied: std::collections::BTreeMap<Tier, u32>,
    /// Unconfirmed transactions of the vault seen in the mempool.
    pub mempool_txs: usize,
    /// Wallet tip height afterwards.
    pub tip_height: u32,
    /// Wallet tip hash afterwards.
    pub tip_hash: String,
    /// When the sync ended.
    pub time: String,
}

/// Drives `group` (wallets whose tips are the same block) from one pass over
/// the chain, so each block is fetched once. Returns the blocks applied.
fn sync_group(
    chain: &dyn ChainSource,
    group: &mut [&mut TierWallet],
    start_height: u32,
    tip: u64,
    progress: &dyn SyncProgress,
) -> Result<u32, CoordinatorError> {
    let start = group[0].wallet().latest_checkpoint();
    let wallets: Vec<&bdk_wallet::Wallet> = group.iter().map(|tw| tw.wallet()).collect();
    let unconfirmed: Vec<Arc<Transaction>> = wallets
        .par_iter()
        .flat_map_iter(|wallet| {
            wallet
                .transactions()
                .filter(|t| t.chain_position.is_unconfirmed())
                .map(|t| t.tx_node.tx.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    let label: Vec<&str> = group.iter().map(|tw| tw.tier().as_str()).collect();
    progress.start(&label.join("+"), start.height(), tip);
    let mut updates = chain.updates_since(start, start_height, unconfirmed)?;
    let mut applied = 0u32;
    let mut persisted = Instant::now();
    while let Some(event) = updates.next_block()? {
        let height = event.block_height();
        // The wallets are independent: each applies the block on a core.
        group.par_iter_mut().try_for_each(|tw| {
            let tier = tw.tier();
            tw.wallet_mut()
                .apply_block_connected_to(&event.block, height, event.connected_to())
                .map_err(|e| CoordinatorError::Connect {
                    tier,
                    reason: e.to_string(),
                })
        })?;
        applied += 1;
        if persisted.elapsed() >= PERSIST_AFTER {
            group.par_iter_mut().try_for_each(|tw| tw.persist())?;
            persisted = Instant::now();
        }
        progress.advance(u64::from(height).min(tip));
    }
    let mempool = updates.mempool()?;
    group.par_iter_mut().try_for_each(|tw| {
        let wallet = tw.wallet_mut();
        // bdk lists every canonical transaction to apply evictions, even
        // none: at 10,000 transactions that pass is worth skipping.
        if !mempool.evicted.is_empty() {
            wallet.apply_evicted_txs(mempool.evicted.clone());
        }
        wallet.apply_unconfirmed_txs(mempool.update.clone());
        tw.persist()
    })?;
    progress.finish();
    Ok(applied)
}

/// The unconfirmed transactions of a wallet.
fn unconfirmed_txids(wallet: &bdk_wallet::Wallet) -> Vec<bitcoin::Txid> {
    wallet
        .transactions()
        .filter(|t| t.chain_position.is_unconfirmed())
        .map(|t| t.tx_node.txid)
        .collect()
}

/// Syncs both wallets to the chain's tip and mempool and records when.
/// Blocks below `start_height` are skipped on a wallet's first sync (the
/// vault's birth height: nothing can be older).
pub fn sync(
    dir: &DataDir,
    chain: &dyn ChainSource,
    wallets: &mut VaultWallets,
    start_height: u32,
    progress: &dyn SyncProgress,
) -> Result<SyncReport, CoordinatorError> {
    let tip = chain.health()?.blocks;
    let VaultWallets { cold, hot } = wallets;
    let together =
        cold.wallet().latest_checkpoint().block_id() == hot.wallet().latest_checkpoint().block_id();
    let mut blocks_applied = std::collections::BTreeMap::new();
    if together {
        let n = sync_group(chain, &mut [cold, hot], start_height, tip, progress)?;
        blocks_applied = [(Tier::Cold, n), (Tier::Hot, n)].into();
    } else {
        for tw in [cold, hot] {
            let tier = tw.tier();
            let n = sync_group(chain, &mut [tw], start_height, tip, progress)?;
            blocks_applied.insert(tier, n);
        }
    }
    // A pass over every transaction of each wallet: one per core.
    let (cold, hot) = (wallets.cold.wallet(), wallets.hot.wallet());
    let (cold, hot) = rayon::join(|| unconfirmed_txids(cold), || unconfirmed_txids(hot));
    let mempool_txs = cold
        .into_iter()
        .chain(hot)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let cp = wallets.cold.wallet().latest_checkpoint();
    let now = crate::audit::now_unix();
    let state = SyncState {
        unix_time: now,
        tip_height: cp.height(),
        tip_hash: cp.hash().to_string(),
    };
    dir.store_sync_state(&state)?;
    Ok(SyncReport {
        blocks_applied,
        mempool_txs,
        tip_height: state.tip_height,
        tip_hash: state.tip_hash,
        time: utc_timestamp(now),
    })
}

impl Coordinator {
    /// `sync`.
    pub fn sync(&self) -> Result<SyncReport, CoordinatorError> {
        self.sync_from(&NodeOnDemand::new(self))
    }

    /// Syncs both wallets to `chain`.
    pub(crate) fn sync_from(
        &self,
        chain: &dyn ChainSource,
    ) -> Result<SyncReport, CoordinatorError> {
        self.synced_wallets(chain).map(|(_, report)| report)
    }

    /// Both wallets, synced to `chain`.
    pub(crate) fn synced_wallets(
        &self,
        chain: &dyn ChainSource,
    ) -> Result<(VaultWallets, SyncReport), CoordinatorError> {
        // The chain first: with the node down, say so before opening wallets.
        chain.health()?;
        let mut wallets = self.wallets()?;
        let start_height = Config::load(self.dir())?.sync.start_height;
        let report = sync(
            self.dir(),
            chain,
            &mut wallets,
            start_height,
            self.progress(),
        )?;
        Ok((wallets, report))
    }
}

#[cfg(test)]
mod tests {
    use bitcoin::Amount;

    use crate::coordinator::chain::ChainSource;
    use crate::coordinator::test_vault::{TestVault, BTC};
    use crate::policy::Tier;

    #[test]
    fn blocks_and_mempool_reach_the_wallets_and_a_reorg_takes_them_back() {
        let v = TestVault::new();
        let coin = v.fund(Tier::Hot, BTC);
        v.chain.mine(vec![]);
        let incoming = v.payment(Tier::Cold, 2 * BTC);
        v.chain.add_to_mempool(incoming.clone());

        let report = v.coordinator.sync_from(&v.chain).unwrap();
        assert_eq!(report.blocks_applied[&Tier::Cold], 2);
        assert_eq!(report.blocks_applied[&Tier::Hot], 2);
        assert_eq!(report.tip_height, 2);
        assert_eq!(report.tip_hash, v.chain.block_hash(2).unwrap().to_string());
        assert_eq!(report.mempool_txs, 1);
        let balance = v.coordinator.balance().unwrap();
        assert_eq!(balance.hot.confirmed, Amount::from_sat(BTC));
        assert_eq!(balance.cold.confirmed, Amount::ZERO);
        assert_eq!(balance.cold.unconfirmed, Amount::from_sat(2 * BTC));
        let coins = v.coordinator.coins(Some(Tier::Hot)).unwrap();
        assert_eq!(coins.len(), 1);
        assert_eq!(coins[0].outpoint, coin);
        assert_eq!(coins[0].confirmation_height, Some(1));

        // Blocks 1 and 2 are replaced by a longer branch without the hot
        // payment, which goes back to the mempool; the cold one leaves it.
        v.chain.disconnect_above(0);
        for _ in 0..3 {
            v.chain.mine(vec![]);
        }
        v.chain.drop_from_mempool(incoming.compute_txid());
        let status = v.coordinator.status_of(&v.chain).unwrap();
        assert_eq!(status.blocks_behind, 1);
        assert!(status
            .wallet_tips
            .iter()
            .all(|t| t.height == 2 && !t.on_node_chain));

        let report = v.coordinator.sync_from(&v.chain).unwrap();
        assert_eq!(report.blocks_applied[&Tier::Hot], 3);
        assert_eq!(report.tip_height, 3);
        assert_eq!(report.mempool_txs, 1);
        let balance = v.coordinator.balance().unwrap();
        assert_eq!(balance.cold.total(), Amount::ZERO);
        assert_eq!(balance.hot.confirmed, Amount::ZERO);
        assert_eq!(balance.hot.unconfirmed, Amount::from_sat(BTC));
        let status = v.coordinator.status_of(&v.chain).unwrap();
        assert_eq!(status.blocks_behind, 0);
        assert!(status.wallet_tips.iter().all(|t| t.on_node_chain));

        // Mined again on the new branch.
        v.chain.mine_mempool();
        let report = v.coordinator.sync_from(&v.chain).unwrap();
        assert_eq!(report.blocks_applied[&Tier::Hot], 1);
        assert_eq!(report.mempool_txs, 0);
        let coins = v.coordinator.coins(None).unwrap();
        assert_eq!(coins.len(), 1);
        assert_eq!(coins[0].outpoint, coin);
        assert_eq!(coins[0].confirmation_height, Some(4));
    }
}

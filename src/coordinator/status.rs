//! `status`: whether the node is up and synced, and where each wallet's
//! view of the chain ends against it.

use bitcoin::BlockHash;
use serde::Serialize;

use crate::audit::utc_timestamp;
use crate::policy::{PolicyId, Tier};

use super::balance::VaultBalance;
use super::chain::ChainSource;
use super::datadir::SyncState;
use super::error::CoordinatorError;
use super::node::NodeHealth;
use super::node_chain::NodeOnDemand;
use super::todo::{open_proposals, recovery_clocks, ToDo};
use super::vault::Coordinator;

/// `status`: node health and wallet state.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// The vault.
    pub vault: String,
    /// Its policy id.
    pub policy_id: PolicyId,
    /// The policy's network.
    pub network: String,
    /// The node.
    pub node: NodeHealth,
    /// Whether the node is synced (not in IBD, all headers have blocks).
    pub node_synced: bool,
    /// Each wallet's tip: (tier, height, hash).
    pub wallet_tips: Vec<WalletTip>,
    /// The last sync.
    pub last_sync: Option<SyncState>,
    /// The last sync, for people.
    pub last_sync_time: Option<String>,
    /// Blocks the wallets are behind the node.
    pub blocks_behind: u64,
    /// What needs doing.
    pub to_do: ToDo,
}

/// Where a wallet's view of the chain ends.
#[derive(Debug, Clone, Serialize)]
pub struct WalletTip {
    /// The tier.
    pub tier: Tier,
    /// Height.
    pub height: u32,
    /// Hash.
    pub hash: BlockHash,
    /// Whether the node's best chain has this block; false after a reorg
    /// the wallet has not seen yet (run `sync`).
    pub on_node_chain: bool,
}

impl Coordinator {
    /// `status`.
    pub fn status(&self) -> Result<StatusReport, CoordinatorError> {
        self.status_of(&NodeOnDemand::new(self))
    }

    /// Node health and the wallets' tips, as `chain` sees them.
    pub(crate) fn status_of(
        &self,
        chain: &dyn ChainSource,
    ) -> Result<StatusReport, CoordinatorError> {
        let health = chain.health()?;
        let wallets = self.wallets()?;
        let mut wallet_tips = Vec::new();
        for t in Tier::ALL {
            let cp = wallets.tier(t).wallet().latest_checkpoint();
            let hash = cp.hash();
            let on_node_chain = u64::from(cp.height()) <= health.blocks
                && chain.block_hash(cp.height())? == cp.hash();
            wallet_tips.push(WalletTip {
                tier: t,
                height: cp.height(),
                hash,
                on_node_chain,
            });
        }
        let lowest = wallet_tips.iter().map(|t| t.height).min().unwrap_or(0);
        let last_sync = self.dir().sync_state()?;
        let balance = VaultBalance::of(&wallets, self.policy().rules().ratio());
        let tip = u32::try_from(health.blocks).unwrap_or(u32::MAX);
        let to_do = ToDo {
            open_proposals: open_proposals(&self.log_entries()?, self.policy()),
            recovery_soon: recovery_clocks(&self.coins_in(&wallets, None), self.policy(), tip),
            cold_percent: (balance.cold_percent() * 100.0).round() / 100.0,
            ratio_ok: balance.ratio_ok(),
        };
        Ok(StatusReport {
            vault: self.policy().name().to_string(),
            policy_id: self.policy().id(),
            network: self.policy().network().to_string(),
            node_synced: health.is_synced(),
            blocks_behind: health.blocks.saturating_sub(u64::from(lowest)),
            node: health,
            wallet_tips,
            last_sync_time: last_sync.as_ref().map(|s| utc_timestamp(s.unix_time)),
            last_sync,
            to_do,
        })
    }
}

//! What the coordinator needs from the bitcoin network, as one trait: the
//! blocks and mempool after a wallet's checkpoint, the node's health, a fee
//! estimate and broadcasting. [`super::Node`] answers it over RPC; tests answer
//! it from blocks built in memory, through the same sync and proposal code.

use std::sync::Arc;

use bdk_wallet::chain::CheckPoint;
use bitcoin::{Block, BlockHash, Transaction, Txid};

use super::error::CoordinatorError;
use super::node::NodeHealth;

/// A block of the best chain and the checkpoint it extends: the wallet
/// applies it with `apply_block_connected_to`.
pub type ChainBlock = bdk_bitcoind_rpc::BlockEvent<Block>;

/// The mempool as last seen: its transactions with the time they were seen,
/// and the expected ones that left it without confirming.
pub type MempoolUpdate = bdk_bitcoind_rpc::MempoolEvent;

/// The chain as the coordinator sees it.
pub trait ChainSource {
    /// The chain's name (as Bitcoin Core calls it), height and sync state.
    fn health(&self) -> Result<NodeHealth, CoordinatorError>;

    /// The hash of the best chain's block at `height` (which must not be
    /// above the tip).
    fn block_hash(&self, height: u32) -> Result<BlockHash, CoordinatorError>;

    /// A fee rate estimate in sat/vB for confirmation within `blocks`, if
    /// there is one.
    fn estimate_sat_per_vb(&self, blocks: u16) -> Option<f64>;

    /// Checks that the transaction would be accepted, then sends it. A
    /// refusal is [`CoordinatorError::Rejected`] with the reason, and
    /// nothing is sent.
    fn broadcast(&self, tx: &Transaction) -> Result<Txid, CoordinatorError>;

    /// The blocks after `checkpoint` (after the last block it shares with
    /// the best chain, if that chain has reorganized), none below
    /// `start_height` on a first sync, then the mempool. `expected_mempool`
    /// are the transactions the wallet holds as unconfirmed: those that
    /// leave the mempool without confirming are reported as evicted.
    fn updates_since<'a>(
        &'a self,
        checkpoint: CheckPoint,
        start_height: u32,
        expected_mempool: Vec<Arc<Transaction>>,
    ) -> Result<Box<dyn ChainUpdates + 'a>, CoordinatorError>;
}

/// One pass over the chain after a checkpoint: blocks in order, then the
/// mempool once they have run out.
pub trait ChainUpdates {
    /// The next block, or `None` at the tip.
    fn next_block(&mut self) -> Result<Option<ChainBlock>, CoordinatorError>;

    /// The mempool now. Evictions are reported only once the tip has been
    /// reached: before that, a transaction missing from the mempool may be
    /// confirmed in a block not yet emitted.
    fn mempool(&mut self) -> Result<MempoolUpdate, CoordinatorError>;
}

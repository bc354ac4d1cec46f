//! Bitcoin Core as the coordinator's [`ChainSource`]: blocks and mempool come
//! from bdk's RPC emitter, the rest from the node's RPC calls; and the node
//! of a coordinator, connected when first asked.

use std::cell::{OnceCell, RefCell};
use std::sync::Arc;

use bdk_bitcoind_rpc::bitcoincore_rpc::{Client, RpcApi};
use bdk_bitcoind_rpc::Emitter;
use bdk_wallet::chain::CheckPoint;
use bitcoin::{BlockHash, Transaction, Txid};

use super::chain::{ChainBlock, ChainSource, ChainUpdates, MempoolUpdate};
use super::error::CoordinatorError;
use super::node::{Node, NodeHealth};
use super::vault::Coordinator;

impl ChainSource for Node {
    fn health(&self) -> Result<NodeHealth, CoordinatorError> {
        Node::health(self)
    }

    fn block_hash(&self, height: u32) -> Result<BlockHash, CoordinatorError> {
        self.client()
            .get_block_hash(u64::from(height))
            .map_err(|e| self.rpc_error("getblockhash", e))
    }

    fn estimate_sat_per_vb(&self, blocks: u16) -> Option<f64> {
        Node::estimate_sat_per_vb(self, blocks)
    }

    fn broadcast(&self, tx: &Transaction) -> Result<Txid, CoordinatorError> {
        Node::broadcast(self, tx)
    }

    fn updates_since<'a>(
        &'a self,
        checkpoint: CheckPoint,
        start_height: u32,
        expected_mempool: Vec<Arc<Transaction>>,
    ) -> Result<Box<dyn ChainUpdates + 'a>, CoordinatorError> {
        Ok(Box::new(NodeUpdates {
            node: self,
            emitter: Emitter::new(self.client(), checkpoint, start_height, expected_mempool),
        }))
    }
}

/// The emitter walks the node's chain (back to the last common block after a
/// reorg) and diffs the mempool against what the wallet expects.
struct NodeUpdates<'a> {
    node: &'a Node,
    emitter: Emitter<&'a Client>,
}

impl ChainUpdates for NodeUpdates<'_> {
    fn next_block(&mut self) -> Result<Option<ChainBlock>, CoordinatorError> {
        self.emitter
            .next_block()
            .map_err(|e| self.node.rpc_error("getblock", e))
    }

    fn mempool(&mut self) -> Result<MempoolUpdate, CoordinatorError> {
        self.emitter
            .mempool()
            .map_err(|e| self.node.rpc_error("getrawmempool", e))
    }
}

/// The coordinator's node, connected on first use: commands check their
/// arguments and files before they need the node, so a mistake is reported
/// as such even while the node is down.
pub(crate) struct NodeOnDemand<'c> {
    coordinator: &'c Coordinator,
    node: OnceCell<Node>,
    /// The health read while connecting, handed to the first `health` call
    /// rather than asking the node twice.
    health_at_connect: RefCell<Option<NodeHealth>>,
}

impl<'c> NodeOnDemand<'c> {
    /// The node of `coordinator`, not connected yet.
    pub(crate) fn new(coordinator: &'c Coordinator) -> Self {
        NodeOnDemand {
            coordinator,
            node: OnceCell::new(),
            health_at_connect: RefCell::new(None),
        }
    }

    fn node(&self) -> Result<&Node, CoordinatorError> {
        if let Some(node) = self.node.get() {
            return Ok(node);
        }
        let (node, health) = self.coordinator.connect()?;
        *self.health_at_connect.borrow_mut() = Some(health);
        Ok(self.node.get_or_init(|| node))
    }
}

impl ChainSource for NodeOnDemand<'_> {
    fn health(&self) -> Result<NodeHealth, CoordinatorError> {
        let node = self.node()?;
        match self.health_at_connect.borrow_mut().take() {
            Some(health) => Ok(health),
            None => node.health(),
        }
    }

    fn block_hash(&self, height: u32) -> Result<BlockHash, CoordinatorError> {
        ChainSource::block_hash(self.node()?, height)
    }

    /// No estimate when the node cannot be reached; the operation that
    /// needs the node for more than this reports that.
    fn estimate_sat_per_vb(&self, blocks: u16) -> Option<f64> {
        self.node().ok()?.estimate_sat_per_vb(blocks)
    }

    fn broadcast(&self, tx: &Transaction) -> Result<Txid, CoordinatorError> {
        self.node()?.broadcast(tx)
    }

    fn updates_since<'a>(
        &'a self,
        checkpoint: CheckPoint,
        start_height: u32,
        expected_mempool: Vec<Arc<Transaction>>,
    ) -> Result<Box<dyn ChainUpdates + 'a>, CoordinatorError> {
        self.node()?
            .updates_since(checkpoint, start_height, expected_mempool)
    }
}

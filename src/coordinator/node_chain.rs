//! Bitcoin Core as the coordinator's [`ChainSource`]: blocks are fetched
//! ahead on a second connection ([`super::prefetch`]), the mempool comes
//! from bdk's RPC emitter, the rest from the node's RPC calls; and the node
//! of a coordinator, connected when first asked.

use std::cell::{OnceCell, RefCell};
use std::sync::Arc;

use bdk_bitcoind_rpc::bitcoincore_rpc::{jsonrpc, Client, RpcApi};
use bdk_bitcoind_rpc::Emitter;
use bdk_wallet::chain::CheckPoint;
use bitcoin::{Block, BlockHash, Transaction, Txid};
use serde_json::{json, Value};

use super::chain::{ChainBlock, ChainSource, ChainUpdates, MempoolUpdate};
use super::error::CoordinatorError;
use super::node::{rpc_error, Node, NodeHealth};
use super::prefetch::{BlockSource, Prefetch};
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
        let source = RpcBlocks {
            client: self.another_connection()?,
            url: self.url().to_owned(),
        };
        Ok(Box::new(NodeUpdates {
            node: self,
            start_height,
            blocks: Prefetch::start(source, checkpoint, start_height, expected_mempool),
        }))
    }
}

/// Blocks walked ahead on a second connection; then the emitter, from the
/// last block emitted, diffs the mempool against what the wallet expects.
struct NodeUpdates<'a> {
    node: &'a Node,
    start_height: u32,
    blocks: Prefetch,
}

impl ChainUpdates for NodeUpdates<'_> {
    fn next_block(&mut self) -> Result<Option<ChainBlock>, CoordinatorError> {
        self.blocks.next_block()
    }

    fn mempool(&mut self) -> Result<MempoolUpdate, CoordinatorError> {
        let mut emitter = Emitter::new(
            self.node.client(),
            self.blocks.last_checkpoint().clone(),
            self.start_height,
            self.blocks.expected_mempool().cloned(),
        );
        emitter
            .mempool()
            .map_err(|e| self.node.rpc_error("getrawmempool", e))
    }
}

/// The node's blocks over a connection of their own, each kind of question
/// asked for many heights or blocks in one batch request: one round trip
/// for hundreds of hashes or a run of blocks.
struct RpcBlocks {
    client: Client,
    url: String,
}

/// Core's error code for a height above the tip.
const RPC_INVALID_PARAMETER: i32 = -8;

impl RpcBlocks {
    /// Calls `method` once per parameter list, in one request; the answers
    /// in order, each a result or the node's error for that call.
    fn batch(
        &self,
        method: &str,
        params: &[Value],
    ) -> Result<Vec<Result<Value, jsonrpc::error::RpcError>>, CoordinatorError> {
        let failed = |reason: String| CoordinatorError::Rpc {
            call: method.to_string(),
            reason,
        };
        let raw: Vec<Box<serde_json::value::RawValue>> = params
            .iter()
            .map(serde_json::value::to_raw_value)
            .collect::<Result<_, _>>()
            .map_err(|e| failed(e.to_string()))?;
        let rpc = self.client.get_jsonrpc_client();
        let requests: Vec<jsonrpc::Request> = raw
            .iter()
            .map(|p| rpc.build_request(method, Some(p)))
            .collect();
        let responses = rpc
            .send_batch(&requests)
            .map_err(|e| rpc_error(&self.url, method, e.into()))?;
        responses
            .into_iter()
            .map(|r| {
                let r =
                    r.ok_or_else(|| failed("the node left a call of a batch unanswered".into()))?;
                match r.result::<Value>() {
                    Ok(v) => Ok(Ok(v)),
                    Err(jsonrpc::Error::Rpc(e)) => Ok(Err(e)),
                    Err(e) => Err(rpc_error(&self.url, method, e.into())),
                }
            })
            .collect()
    }
}

impl BlockSource for RpcBlocks {
    fn tip_height(&self) -> Result<u32, CoordinatorError> {
        let count = self
            .client
            .get_block_count()
            .map_err(|e| rpc_error(&self.url, "getblockcount", e))?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    fn hashes(&self, from: u32, to: u32) -> Result<Vec<BlockHash>, CoordinatorError> {
        let params: Vec<Value> = (from..=to).map(|h| json!([h])).collect();
        let mut hashes = Vec::with_capacity(params.len());
        for answer in self.batch("getblockhash", &params)? {
            match answer {
                Ok(v) => {
                    hashes.push(
                        serde_json::from_value(v).map_err(|e| CoordinatorError::Rpc {
                            call: "getblockhash".into(),
                            reason: e.to_string(),
                        })?,
                    )
                }
                Err(e) if e.code == RPC_INVALID_PARAMETER => break,
                Err(e) => {
                    return Err(CoordinatorError::Rpc {
                        call: "getblockhash".into(),
                        reason: e.message,
                    })
                }
            }
        }
        Ok(hashes)
    }

    fn blocks(&self, hashes: &[BlockHash]) -> Result<Vec<Block>, CoordinatorError> {
        let params: Vec<Value> = hashes.iter().map(|h| json!([h, 0])).collect();
        let failed = |reason: String| CoordinatorError::Rpc {
            call: "getblock".into(),
            reason,
        };
        self.batch("getblock", &params)?
            .into_iter()
            .map(|answer| {
                let v = answer.map_err(|e| failed(e.message))?;
                let hex = v
                    .as_str()
                    .ok_or_else(|| failed("the block is not hex".into()))?;
                bitcoin::consensus::encode::deserialize_hex::<Block>(hex)
                    .map_err(|e| failed(e.to_string()))
            })
            .collect()
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

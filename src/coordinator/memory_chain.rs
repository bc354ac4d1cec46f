//! A chain kept in memory, for tests of the coordinator: blocks built by the
//! test (without coinbases: the wallets need only headers that connect and
//! the transactions), a mempool, a fee estimate, and a record of what was
//! broadcast. Its blocks are walked by the same code as a node's
//! ([`super::prefetch`]: the last common block after a reorg, the start
//! height on a first sync) and its mempool diffed as the RPC emitter does
//! (evictions only at the tip), so the wallets go through the same sync code
//! as with a node.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::sync::Arc;

use bdk_wallet::chain::CheckPoint;
use bitcoin::block::{Header, Version};
use bitcoin::hashes::Hash;
use bitcoin::{
    absolute, transaction, Amount, Block, BlockHash, Network, OutPoint, ScriptBuf, Sequence,
    Transaction, TxIn, TxMerkleNode, TxOut, Txid, Witness,
};

use super::chain::{ChainBlock, ChainSource, ChainUpdates, MempoolUpdate};
use super::error::CoordinatorError;
use super::node::NodeHealth;
use super::prefetch::{BlockSource, Prefetch};

/// A best chain, a mempool and a broadcast record, all in memory.
pub(crate) struct MemoryChain {
    network: Network,
    /// The best chain; `blocks[h]` is at height `h`, genesis first.
    blocks: RefCell<Vec<Block>>,
    mempool: RefCell<Vec<Transaction>>,
    estimate_sat_per_vb: Cell<Option<f64>>,
    rejection: RefCell<Option<String>>,
    broadcasts: RefCell<Vec<Transaction>>,
    initial_block_download: Cell<bool>,
    /// Makes every block and funding transaction unique.
    counter: Cell<u32>,
}

impl MemoryChain {
    /// A chain of `network` holding only its genesis block.
    pub(crate) fn new(network: Network) -> MemoryChain {
        MemoryChain {
            network,
            blocks: RefCell::new(vec![bitcoin::constants::genesis_block(network)]),
            mempool: RefCell::new(Vec::new()),
            estimate_sat_per_vb: Cell::new(None),
            rejection: RefCell::new(None),
            broadcasts: RefCell::new(Vec::new()),
            initial_block_download: Cell::new(false),
            counter: Cell::new(0),
        }
    }

    fn next_count(&self) -> u32 {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        n
    }

    /// A transaction paying `amount` to `script` from an outpoint no wallet
    /// of the vault knows (as a payment from outside would).
    pub(crate) fn payment(&self, script: ScriptBuf, amount: Amount) -> Transaction {
        let outside = Txid::hash(&self.next_count().to_le_bytes());
        Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::new(outside, 0),
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness: Witness::new(),
            }],
            output: vec![TxOut {
                value: amount,
                script_pubkey: script,
            }],
        }
    }

    /// Adds a block with `txs` on the tip (taking them out of the mempool)
    /// and returns its hash.
    pub(crate) fn mine(&self, txs: Vec<Transaction>) -> BlockHash {
        let mut blocks = self.blocks.borrow_mut();
        let tip = blocks.last().expect("a chain has its genesis");
        let mut block = Block {
            header: Header {
                version: Version::TWO,
                prev_blockhash: tip.block_hash(),
                merkle_root: TxMerkleNode::all_zeros(),
                time: tip.header.time + 600,
                bits: tip.header.bits,
                nonce: self.next_count(),
            },
            txdata: txs,
        };
        if let Some(root) = block.compute_merkle_root() {
            block.header.merkle_root = root;
        }
        let mined: BTreeSet<Txid> = block.txdata.iter().map(|t| t.compute_txid()).collect();
        self.mempool
            .borrow_mut()
            .retain(|t| !mined.contains(&t.compute_txid()));
        let hash = block.block_hash();
        blocks.push(block);
        hash
    }

    /// Mines everything in the mempool into one block.
    pub(crate) fn mine_mempool(&self) -> BlockHash {
        let txs = self.mempool.borrow().clone();
        self.mine(txs)
    }

    /// Drops the blocks above `height`, as a reorg does before the new
    /// branch is mined; their transactions go back to the mempool, as a
    /// node puts them back.
    pub(crate) fn disconnect_above(&self, height: u32) {
        let stale = self.blocks.borrow_mut().split_off(height as usize + 1);
        let mut mempool = self.mempool.borrow_mut();
        let back: Vec<Transaction> = stale.into_iter().flat_map(|b| b.txdata).collect();
        mempool.splice(0..0, back);
    }

    /// Puts `tx` in the mempool, unchecked.
    pub(crate) fn add_to_mempool(&self, tx: Transaction) {
        self.mempool.borrow_mut().push(tx);
    }

    /// Takes `txid` out of the mempool, as when it expires or is replaced.
    pub(crate) fn drop_from_mempool(&self, txid: Txid) {
        self.mempool
            .borrow_mut()
            .retain(|t| t.compute_txid() != txid);
    }

    /// Sets the fee estimate (sat/vB).
    pub(crate) fn set_estimate_sat_per_vb(&self, rate: Option<f64>) {
        self.estimate_sat_per_vb.set(rate);
    }

    /// Reports the chain as still in initial block download (or as caught up).
    pub(crate) fn set_initial_block_download(&self, syncing: bool) {
        self.initial_block_download.set(syncing);
    }

    /// Makes every broadcast fail with `reason` (or none, with `None`).
    pub(crate) fn reject_broadcasts(&self, reason: Option<&str>) {
        *self.rejection.borrow_mut() = reason.map(str::to_owned);
    }

    /// The transactions accepted by [`ChainSource::broadcast`], in order.
    pub(crate) fn broadcasts(&self) -> Vec<Transaction> {
        self.broadcasts.borrow().clone()
    }

    /// Outpoints spent by a transaction in a block or the mempool.
    fn spent(&self) -> BTreeSet<OutPoint> {
        let blocks = self.blocks.borrow();
        let mempool = self.mempool.borrow();
        blocks
            .iter()
            .flat_map(|b| b.txdata.iter())
            .chain(mempool.iter())
            .flat_map(|t| t.input.iter().map(|i| i.previous_output))
            .collect()
    }
}

impl ChainSource for MemoryChain {
    fn health(&self) -> Result<NodeHealth, CoordinatorError> {
        let blocks = self.blocks.borrow();
        let height = blocks.len() as u64 - 1;
        Ok(NodeHealth {
            url: "memory".into(),
            chain: self.network.to_core_arg().into(),
            blocks: height,
            headers: height,
            tip_hash: blocks[height as usize].block_hash().to_string(),
            initial_block_download: self.initial_block_download.get(),
            verification_progress: 1.0,
            network_matches: true,
        })
    }

    fn block_hash(&self, height: u32) -> Result<BlockHash, CoordinatorError> {
        self.blocks
            .borrow()
            .get(height as usize)
            .map(Block::block_hash)
            .ok_or_else(|| CoordinatorError::Rpc {
                call: "getblockhash".into(),
                reason: "Block height out of range".into(),
            })
    }

    fn estimate_sat_per_vb(&self, _blocks: u16) -> Option<f64> {
        self.estimate_sat_per_vb.get()
    }

    /// Refuses what the node would for a spent coin, or any transaction
    /// once told to; otherwise the transaction enters the mempool.
    fn broadcast(&self, tx: &Transaction) -> Result<Txid, CoordinatorError> {
        let txid = tx.compute_txid();
        if let Some(reason) = self.rejection.borrow().clone() {
            return Err(CoordinatorError::Rejected { txid, reason });
        }
        let spent = self.spent();
        if tx.input.iter().any(|i| spent.contains(&i.previous_output)) {
            return Err(CoordinatorError::Rejected {
                txid,
                reason: "bad-txns-inputs-missingorspent".into(),
            });
        }
        self.broadcasts.borrow_mut().push(tx.clone());
        self.mempool.borrow_mut().push(tx.clone());
        Ok(txid)
    }

    fn updates_since<'a>(
        &'a self,
        checkpoint: CheckPoint,
        start_height: u32,
        expected_mempool: Vec<Arc<Transaction>>,
    ) -> Result<Box<dyn ChainUpdates + 'a>, CoordinatorError> {
        let snapshot = Snapshot(Arc::new(self.blocks.borrow().clone()));
        Ok(Box::new(MemoryUpdates {
            chain: self,
            blocks: Prefetch::start(snapshot, checkpoint, start_height, expected_mempool),
        }))
    }
}

/// The chain's blocks as they were when a pass began, walked by the same
/// code as a node's.
pub(crate) struct Snapshot(pub(crate) Arc<Vec<Block>>);

impl BlockSource for Snapshot {
    fn tip_height(&self) -> Result<u32, CoordinatorError> {
        Ok(self.0.len() as u32 - 1)
    }

    fn hashes(&self, from: u32, to: u32) -> Result<Vec<BlockHash>, CoordinatorError> {
        Ok((from..=to)
            .map_while(|h| self.0.get(h as usize).map(Block::block_hash))
            .collect())
    }

    fn blocks(&self, hashes: &[BlockHash]) -> Result<Vec<Block>, CoordinatorError> {
        Ok(hashes
            .iter()
            .map(|h| {
                self.0
                    .iter()
                    .find(|b| b.block_hash() == *h)
                    .expect("asked for a block of the chain")
                    .clone()
            })
            .collect())
    }
}

/// One pass over a [`MemoryChain`]: its blocks walked as a node's are, then
/// its mempool diffed as the emitter does.
struct MemoryUpdates<'a> {
    chain: &'a MemoryChain,
    blocks: Prefetch,
}

impl ChainUpdates for MemoryUpdates<'_> {
    fn next_block(&mut self) -> Result<Option<ChainBlock>, CoordinatorError> {
        self.blocks.next_block()
    }

    fn mempool(&mut self) -> Result<MempoolUpdate, CoordinatorError> {
        let now = crate::audit::now_unix();
        let update: Vec<(Arc<Transaction>, u64)> = self
            .chain
            .mempool
            .borrow()
            .iter()
            .map(|t| (Arc::new(t.clone()), now))
            .collect();
        let tip = self.chain.blocks.borrow().last().map(Block::block_hash);
        let mut event = MempoolUpdate {
            update,
            evicted: Vec::new(),
        };
        let in_mempool: BTreeSet<Txid> =
            event.update.iter().map(|(t, _)| t.compute_txid()).collect();
        if tip == Some(self.blocks.last_checkpoint().hash()) {
            event.evicted = self
                .blocks
                .expected_mempool()
                .map(|t| t.compute_txid())
                .filter(|txid| !in_mempool.contains(txid))
                .map(|txid| (txid, now))
                .collect();
        }
        Ok(event)
    }
}

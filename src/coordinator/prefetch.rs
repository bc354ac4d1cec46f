//! The blocks after a wallet's checkpoint, fetched ahead on a thread of their
//! own: while the wallets apply one block, the next ones are already being
//! asked for, sent by the node and decoded. A sync then takes about the
//! longer of the node's work and the wallets' work, rather than their sum
//! (bdk's emitter asks for each block with two calls, one after the other,
//! and only when the wallet is done with the last).
//!
//! The walk follows the emitter's rules: it starts after the last block of
//! the checkpoint still in the best chain (genesis at worst), skips to the
//! start height on a first sync, and, when the chain reorganizes under it
//! (a block that does not build on the last one emitted), goes back to the
//! last common block and emits again from there. It ends when the tip it
//! reached is still the tip.

use std::collections::HashMap;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use bdk_wallet::chain::{BlockId, CheckPoint};
use bitcoin::{Block, BlockHash, Transaction, Txid};

use super::chain::ChainBlock;
use super::error::CoordinatorError;

/// Heights whose hashes are asked for in one request.
const HASH_BATCH: u32 = 500;

/// Blocks asked for in one request: a few megabytes each on mainnet, so a
/// request stays within tens of megabytes.
const BLOCK_BATCH: usize = 16;

/// Blocks fetched ahead of the wallets at most (with one batch in flight).
const AHEAD: usize = 2 * BLOCK_BATCH;

/// What the walk asks of a node. Implementations answer from their own
/// connection: the walk runs on its own thread.
pub(crate) trait BlockSource: Send + 'static {
    /// The height of the best chain's tip.
    fn tip_height(&self) -> Result<u32, CoordinatorError>;

    /// The best chain's hashes at heights `from..=to`, in order, stopping
    /// before the first height above the tip (the chain may have become
    /// shorter since its height was read).
    fn hashes(&self, from: u32, to: u32) -> Result<Vec<BlockHash>, CoordinatorError>;

    /// The blocks of `hashes`, in order.
    fn blocks(&self, hashes: &[BlockHash]) -> Result<Vec<Block>, CoordinatorError>;
}

/// What the walk sends: a block, or the tip it ended at.
enum Step {
    Block(ChainBlock),
    Done(CheckPoint),
}

type Sent = Result<Step, CoordinatorError>;

/// Blocks walked ahead on a thread, received in order; and what the
/// emitter keeps for the mempool that follows them: the last block emitted,
/// and the transactions the wallets expect unconfirmed that no block has
/// confirmed since.
pub(crate) struct Prefetch {
    blocks: Option<Receiver<Sent>>,
    walker: Option<JoinHandle<()>>,
    last: CheckPoint,
    expected: HashMap<Txid, Arc<Transaction>>,
}

impl Prefetch {
    /// Starts walking `source` after `checkpoint` (none below
    /// `start_height` on a first sync). `expected_mempool` are the
    /// transactions the wallets hold as unconfirmed.
    pub(crate) fn start(
        source: impl BlockSource,
        checkpoint: CheckPoint,
        start_height: u32,
        expected_mempool: Vec<Arc<Transaction>>,
    ) -> Prefetch {
        let last = checkpoint.clone();
        let (sender, blocks) = sync_channel(AHEAD);
        let walker = std::thread::Builder::new()
            .name("custodia-blocks".into())
            .spawn(move || {
                let mut walk = Walk {
                    source,
                    checkpoint,
                    start_height,
                    sender,
                };
                let end = walk.run().map(|()| Step::Done(walk.checkpoint.clone()));
                // The receiver may be gone already; nobody waits then.
                let _ = walk.sender.send(end);
            })
            .expect("a thread can be started");
        Prefetch {
            blocks: Some(blocks),
            walker: Some(walker),
            last,
            expected: expected_mempool
                .into_iter()
                .map(|t| (t.compute_txid(), t))
                .collect(),
        }
    }

    /// The next block, or `None` once the walk has reached the tip.
    pub(crate) fn next_block(&mut self) -> Result<Option<ChainBlock>, CoordinatorError> {
        let Some(blocks) = &self.blocks else {
            return Ok(None);
        };
        let step = blocks.recv().unwrap_or_else(|_| {
            Err(CoordinatorError::Rpc {
                call: "getblock".into(),
                reason: "the thread fetching blocks stopped".into(),
            })
        });
        match step {
            Ok(Step::Block(event)) => {
                // Only with transactions expected: hashing every
                // transaction of every block is not free.
                if !self.expected.is_empty() {
                    for tx in &event.block.txdata {
                        self.expected.remove(&tx.compute_txid());
                    }
                }
                self.last = event.checkpoint.clone();
                Ok(Some(event))
            }
            Ok(Step::Done(tip)) => {
                self.blocks = None;
                self.last = tip;
                Ok(None)
            }
            Err(e) => {
                self.blocks = None;
                Err(e)
            }
        }
    }

    /// The last block emitted (where the walk ended, once it has), below
    /// which the wallets now are.
    pub(crate) fn last_checkpoint(&self) -> &CheckPoint {
        &self.last
    }

    /// The transactions expected unconfirmed that no emitted block confirmed.
    pub(crate) fn expected_mempool(&self) -> impl Iterator<Item = &Arc<Transaction>> {
        self.expected.values()
    }
}

impl Drop for Prefetch {
    /// Stops the walk (its next send fails) and waits for it, so no thread
    /// still talks to the node once a sync has returned.
    fn drop(&mut self) {
        self.blocks = None;
        if let Some(walker) = self.walker.take() {
            let _ = walker.join();
        }
    }
}

/// The walk's state: the chain emitted so far.
struct Walk<S> {
    source: S,
    /// The last block emitted (or where the walk started), with the chain
    /// below it.
    checkpoint: CheckPoint,
    start_height: u32,
    sender: SyncSender<Sent>,
}

impl<S: BlockSource> Walk<S> {
    /// Emits every block up to the tip. Returns early (fine) when the
    /// receiver is gone.
    fn run(&mut self) -> Result<(), CoordinatorError> {
        loop {
            let tip = self.source.tip_height()?;
            self.go_back_to_best_chain(tip)?;
            let next = (self.checkpoint.height() + 1).max(self.start_height);
            if next > tip {
                // At the tip, unless a block came meanwhile.
                if self.source.tip_height()? == tip {
                    return Ok(());
                }
                continue;
            }
            match self.emit_up_to(next, tip)? {
                Emitted::All | Emitted::Reorganized => continue,
                Emitted::ReceiverGone => return Ok(()),
            }
        }
    }

    /// Makes the checkpoint its last block still in the best chain, or
    /// genesis. After a reorg below the start height, the heights of the
    /// stale blocks are emitted again: the start height no longer holds.
    fn go_back_to_best_chain(&mut self, tip: u32) -> Result<(), CoordinatorError> {
        let mut agreement = None;
        for cp in self.checkpoint.iter() {
            if cp.height() > tip {
                continue;
            }
            let hash = self.source.hashes(cp.height(), cp.height())?;
            if hash.first() == Some(&cp.hash()) {
                agreement = Some(cp);
                break;
            }
        }
        let agreement = match agreement {
            Some(cp) => cp,
            None => {
                let genesis = self.source.hashes(0, 0)?;
                let hash = genesis.first().ok_or_else(|| CoordinatorError::Rpc {
                    call: "getblockhash".into(),
                    reason: "the node has no genesis block".into(),
                })?;
                CheckPoint::new(BlockId {
                    height: 0,
                    hash: *hash,
                })
            }
        };
        if agreement.height() < self.start_height && agreement.height() < self.checkpoint.height() {
            self.start_height = agreement.height();
        }
        self.checkpoint = agreement;
        Ok(())
    }

    /// Emits the blocks at `next..=tip` in batches, each checked to build on
    /// the one before.
    fn emit_up_to(&mut self, mut next: u32, tip: u32) -> Result<Emitted, CoordinatorError> {
        while next <= tip {
            let last = tip.min(next.saturating_add(HASH_BATCH - 1));
            let hashes = self.source.hashes(next, last)?;
            if hashes.is_empty() {
                // The chain became shorter.
                return Ok(Emitted::Reorganized);
            }
            for chunk in hashes.chunks(BLOCK_BATCH) {
                let blocks = self.source.blocks(chunk)?;
                for (block, &hash) in blocks.into_iter().zip(chunk) {
                    let follows = next == self.checkpoint.height() + 1;
                    if block.block_hash() != hash
                        || (follows && block.header.prev_blockhash != self.checkpoint.hash())
                    {
                        return Ok(Emitted::Reorganized);
                    }
                    self.checkpoint = self
                        .checkpoint
                        .clone()
                        .push(BlockId { height: next, hash })
                        .expect("heights increase");
                    let event = ChainBlock {
                        block,
                        checkpoint: self.checkpoint.clone(),
                    };
                    if self.sender.send(Ok(Step::Block(event))).is_err() {
                        return Ok(Emitted::ReceiverGone);
                    }
                    next += 1;
                }
            }
        }
        Ok(Emitted::All)
    }
}

/// How a run of blocks ended.
enum Emitted {
    /// Every block up to the tip that was asked for.
    All,
    /// A block did not build on the last one: the chain changed meanwhile.
    Reorganized,
    /// The wallets stopped listening.
    ReceiverGone,
}

#[cfg(test)]
mod tests;

//! The walk against chains that change under it: whatever it emits, applied
//! in order to a bdk chain as the wallets apply it, must leave that chain
//! equal to the node's best chain.

use std::sync::{Arc, Mutex};

use bdk_wallet::chain::local_chain::LocalChain;
use bdk_wallet::chain::{BlockId, CheckPoint};
use bitcoin::block::{Header, Version};
use bitcoin::hashes::Hash;
use bitcoin::{Block, BlockHash, CompactTarget, Network, TxMerkleNode};

use super::{BlockSource, Prefetch, BLOCK_BATCH};
use crate::coordinator::error::CoordinatorError;

/// `n` blocks on top of `chain`, told apart from other branches by `branch`.
fn extend(chain: &mut Vec<Block>, n: u32, branch: u32) {
    for _ in 0..n {
        let tip = chain.last().expect("genesis");
        let height = chain.len() as u32;
        chain.push(Block {
            header: Header {
                version: Version::TWO,
                prev_blockhash: tip.block_hash(),
                merkle_root: TxMerkleNode::all_zeros(),
                time: tip.header.time + 600,
                bits: CompactTarget::from_consensus(0x207fffff),
                nonce: branch << 20 | height,
            },
            txdata: vec![],
        });
    }
}

fn genesis_chain() -> Vec<Block> {
    vec![bitcoin::constants::genesis_block(Network::Regtest)]
}

/// The last height answered from the old chain, and the new best chain.
type Torn = (u32, Vec<Block>);

/// A node whose best chain the test may replace in the middle of an answer
/// of hashes, as a reorg happening during a sync would.
#[derive(Clone)]
struct Node {
    chain: Arc<Mutex<Vec<Block>>>,
    torn: Arc<Mutex<Option<Torn>>>,
    /// Every block the node has seen, stale ones too.
    seen: Arc<Mutex<Vec<Block>>>,
    fail: bool,
}

impl Node {
    fn new(chain: Vec<Block>) -> Node {
        Node {
            seen: Arc::new(Mutex::new(chain.clone())),
            chain: Arc::new(Mutex::new(chain)),
            torn: Arc::new(Mutex::new(None)),
            fail: false,
        }
    }

    fn reorg_after_height(&self, height: u32, chain: Vec<Block>) {
        self.seen.lock().unwrap().extend(chain.iter().cloned());
        *self.torn.lock().unwrap() = Some((height, chain));
    }
}

impl BlockSource for Node {
    fn tip_height(&self) -> Result<u32, CoordinatorError> {
        Ok(self.chain.lock().unwrap().len() as u32 - 1)
    }

    fn hashes(&self, from: u32, to: u32) -> Result<Vec<BlockHash>, CoordinatorError> {
        let mut chain = self.chain.lock().unwrap();
        let mut hashes = vec![];
        for h in from..=to {
            let mut torn = self.torn.lock().unwrap();
            if torn.as_ref().is_some_and(|(after, _)| h > *after) {
                *chain = torn.take().unwrap().1;
            }
            match chain.get(h as usize) {
                Some(b) => hashes.push(b.block_hash()),
                None => break,
            }
        }
        Ok(hashes)
    }

    fn blocks(&self, hashes: &[BlockHash]) -> Result<Vec<Block>, CoordinatorError> {
        if self.fail {
            return Err(CoordinatorError::Rpc {
                call: "getblock".into(),
                reason: "the node went away".into(),
            });
        }
        let seen = self.seen.lock().unwrap();
        Ok(hashes
            .iter()
            .map(|h| {
                seen.iter()
                    .find(|b| b.block_hash() == *h)
                    .expect("a block the node has")
                    .clone()
            })
            .collect())
    }
}

fn local_chain(chain: &[Block], up_to: u32) -> LocalChain {
    let (mut local, _) = LocalChain::from_genesis_hash(chain[0].block_hash());
    for h in 1..=up_to {
        let block = &chain[h as usize];
        local
            .apply_header_connected_to(
                &block.header,
                h,
                BlockId {
                    height: h - 1,
                    hash: block.header.prev_blockhash,
                },
            )
            .unwrap();
    }
    local
}

/// Walks `node` from `local`'s tip and applies every block as the wallets
/// do; returns the heights emitted.
fn walk(node: &Node, local: &mut LocalChain, start_height: u32) -> Vec<u32> {
    let mut prefetch = Prefetch::start(node.clone(), local.tip(), start_height, vec![]);
    let mut heights = vec![];
    while let Some(event) = prefetch.next_block().unwrap() {
        let height = event.block_height();
        local
            .apply_header_connected_to(&event.block.header, height, event.connected_to())
            .unwrap();
        heights.push(height);
    }
    assert_eq!(
        prefetch.last_checkpoint().block_id(),
        local.tip().block_id()
    );
    heights
}

fn tip_of(chain: &[Block]) -> BlockId {
    BlockId {
        height: chain.len() as u32 - 1,
        hash: chain.last().unwrap().block_hash(),
    }
}

#[test]
fn walks_every_block_in_batches_then_from_the_start_height() {
    let mut chain = genesis_chain();
    extend(&mut chain, 3 * BLOCK_BATCH as u32 + 5, 0);
    let node = Node::new(chain.clone());
    let mut local = local_chain(&chain, 0);
    let heights = walk(&node, &mut local, 0);
    assert_eq!(heights, (1..=chain.len() as u32 - 1).collect::<Vec<_>>());
    assert_eq!(local.tip().block_id(), tip_of(&chain));

    // A first sync skips what lies below the vault's birth height.
    let mut local = local_chain(&chain, 0);
    let heights = walk(&node, &mut local, 30);
    assert_eq!(heights, (30..=chain.len() as u32 - 1).collect::<Vec<_>>());
    assert_eq!(local.tip().block_id(), tip_of(&chain));

    // Nothing to do at the tip.
    assert!(walk(&node, &mut local, 30).is_empty());
}

#[test]
fn a_wallet_on_a_stale_branch_goes_back_to_the_last_common_block() {
    let mut old = genesis_chain();
    extend(&mut old, 20, 0);
    let mut new = old[..=12].to_vec();
    extend(&mut new, 10, 1);
    let mut local = local_chain(&old, 20);
    let heights = walk(&Node::new(new.clone()), &mut local, 0);
    assert_eq!(heights, (13..=22).collect::<Vec<_>>());
    assert_eq!(local.tip().block_id(), tip_of(&new));

    // A shorter best chain below the start height: its heights come again.
    let mut local = local_chain(&old, 20);
    let mut short = old[..=5].to_vec();
    extend(&mut short, 3, 2);
    let heights = walk(&Node::new(short.clone()), &mut local, 10);
    assert_eq!(heights, vec![6, 7, 8]);
    assert_eq!(local.tip().block_id(), tip_of(&short));
}

#[test]
fn a_reorg_during_the_walk_is_followed() {
    let mut old = genesis_chain();
    extend(&mut old, 4 * BLOCK_BATCH as u32, 0);
    // While the hashes are read, blocks above 10 are replaced by a longer
    // branch: heights up to 20 are answered from the old chain, the rest
    // from the new one, and block 21 does not build on block 20.
    let mut new = old[..=10].to_vec();
    extend(&mut new, 5 * BLOCK_BATCH as u32, 1);
    let node = Node::new(old.clone());
    node.reorg_after_height(20, new.clone());
    let mut local = local_chain(&old, 0);
    let heights = walk(&node, &mut local, 0);
    assert_eq!(heights[..20], (1..=20).collect::<Vec<_>>());
    assert_eq!(
        heights[20..],
        (11..=new.len() as u32 - 1).collect::<Vec<_>>()
    );
    assert_eq!(local.tip().block_id(), tip_of(&new));
    let on_chain: Vec<CheckPoint> = local.tip().iter().collect();
    assert_eq!(on_chain.len(), new.len());
}

#[test]
fn a_node_failure_reaches_the_wallets() {
    let mut chain = genesis_chain();
    extend(&mut chain, 5, 0);
    let mut node = Node::new(chain.clone());
    node.fail = true;
    let mut prefetch = Prefetch::start(node, local_chain(&chain, 0).tip(), 0, vec![]);
    let err = prefetch.next_block().unwrap_err();
    assert!(err.to_string().contains("went away"), "{err}");
    assert!(prefetch.next_block().unwrap().is_none());
}

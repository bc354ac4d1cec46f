//! A Merkle-sum tree over salted customer leaves.
//!
//! Each leaf commits to one customer's id, a per-customer salt and the
//! amount owed; each inner node to both of its children's sums *and* hashes,
//! and its own sum is their (checked) sum. Committing to both child sums, not
//! only their total, closes the hole found in the first summation trees
//! (a prover could shift value between siblings — Hu, Zhang and Guo, 2019);
//! sums are unsigned satoshis, so no negative balance can cancel another.
//! The salt hides a neighbour's id and amount from a customer who holds a
//! proof, and leaves are ordered by their hash so position tells nothing.
//! Hashes are BIP-340-style tagged SHA-256, one tag per kind of node.

use bitcoin::hashes::{sha256, Hash, HashEngine, Hmac, HmacEngine};
use bitcoin::Amount;

use super::liabilities::{CustomerId, Liability};

const LEAF_TAG: &[u8] = b"custodia/reserves/leaf/v1";
const NODE_TAG: &[u8] = b"custodia/reserves/node/v1";
const PAD_TAG: &[u8] = b"custodia/reserves/pad/v1";
const SALT_TAG: &[u8] = b"custodia/reserves/salt/v1";

/// A node: its hash and the sum below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SumNode {
    /// The node's hash.
    pub hash: [u8; 32],
    /// The amounts below it.
    pub sum: Amount,
}

fn tagged(tag: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let t = sha256::Hash::hash(tag);
    let mut engine = sha256::Hash::engine();
    engine.input(t.as_byte_array());
    engine.input(t.as_byte_array());
    for p in parts {
        engine.input(p);
    }
    sha256::Hash::from_engine(engine).to_byte_array()
}

/// The salt of `customer` under the exchange's secret: reproducible by the
/// exchange for every later proof, unknown to anyone without the secret.
pub fn salt(secret: &[u8], customer: &CustomerId) -> [u8; 32] {
    let mut engine = HmacEngine::<sha256::Hash>::new(secret);
    engine.input(SALT_TAG);
    engine.input(customer.as_str().as_bytes());
    Hmac::<sha256::Hash>::from_engine(engine).to_byte_array()
}

/// The leaf of one customer.
pub fn leaf(customer: &CustomerId, salt: &[u8; 32], amount: Amount) -> SumNode {
    let id = customer.as_str().as_bytes();
    // The id is at most 64 bytes: one length byte makes the encoding unique.
    SumNode {
        hash: tagged(
            LEAF_TAG,
            &[&[id.len() as u8], id, salt, &amount.to_sat().to_be_bytes()],
        ),
        sum: amount,
    }
}

/// The zero-sum leaf that fills position `index` of a level: distinct from
/// every customer leaf, so padding cannot be passed off as a customer.
pub fn padding(index: u64) -> SumNode {
    SumNode {
        hash: tagged(PAD_TAG, &[&index.to_be_bytes()]),
        sum: Amount::ZERO,
    }
}

/// The parent of two nodes; `None` if the sums overflow.
pub fn parent(left: &SumNode, right: &SumNode) -> Option<SumNode> {
    let sum = left.sum.checked_add(right.sum)?;
    Some(SumNode {
        hash: tagged(
            NODE_TAG,
            &[
                &left.sum.to_sat().to_be_bytes(),
                &right.sum.to_sat().to_be_bytes(),
                &left.hash,
                &right.hash,
            ],
        ),
        sum,
    })
}

/// A built tree: every level from the leaves up.
#[derive(Debug, Clone)]
pub struct MerkleSumTree {
    levels: Vec<Vec<SumNode>>,
    /// Customer and salt of each leaf position (padding has none).
    owners: Vec<(CustomerId, [u8; 32])>,
}

impl MerkleSumTree {
    /// Builds the tree of `liabilities` with salts from `secret`. The
    /// liabilities file checked the total fits, so sums do not overflow.
    pub fn build(liabilities: &[Liability], secret: &[u8]) -> MerkleSumTree {
        let mut leaves: Vec<(SumNode, CustomerId, [u8; 32])> = liabilities
            .iter()
            .map(|l| {
                let s = salt(secret, &l.customer);
                (leaf(&l.customer, &s, l.amount), l.customer.clone(), s)
            })
            .collect();
        leaves.sort_by_key(|l| l.0.hash);
        let owners = leaves.iter().map(|(_, c, s)| (c.clone(), *s)).collect();
        let mut level: Vec<SumNode> = leaves.into_iter().map(|(n, _, _)| n).collect();
        let width = level.len().next_power_of_two().max(2);
        for i in level.len()..width {
            level.push(padding(i as u64));
        }
        let mut levels = vec![level];
        while levels.last().expect("one level").len() > 1 {
            let up = levels
                .last()
                .expect("one level")
                .chunks(2)
                .map(|pair| parent(&pair[0], &pair[1]).expect("a checked total"))
                .collect();
            levels.push(up);
        }
        MerkleSumTree { levels, owners }
    }

    /// The root.
    pub fn root(&self) -> SumNode {
        self.levels.last().expect("one level")[0]
    }

    /// Position, salt and path (sibling at each level, bottom up) of
    /// `customer`'s leaf.
    pub fn path_of(&self, customer: &CustomerId) -> Option<(usize, [u8; 32], Vec<SumNode>)> {
        let index = self.owners.iter().position(|(c, _)| c == customer)?;
        let salt = self.owners[index].1;
        let mut path = Vec::new();
        let mut i = index;
        for level in &self.levels[..self.levels.len() - 1] {
            path.push(level[i ^ 1]);
            i /= 2;
        }
        Some((index, salt, path))
    }
}

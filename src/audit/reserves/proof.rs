//! A customer's inclusion proof: what they need to check that their balance
//! is counted in the published root, and nothing about anyone else.

use bitcoin::Amount;
use serde::{Deserialize, Serialize};

use super::liabilities::CustomerId;
use super::merkle_sum::{leaf, parent, MerkleSumTree, SumNode};
use crate::error::{Classify, ExitCode};

/// Where a sibling sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The sibling is the left child; the path goes right.
    Left,
    /// The sibling is the right child.
    Right,
}

/// One step up the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Where the sibling sits.
    pub side: Side,
    /// The sibling's hash, hex.
    #[serde(with = "hex_32")]
    pub hash: [u8; 32],
    /// The sibling's sum.
    #[serde(rename = "sum_sat", with = "bitcoin::amount::serde::as_sat")]
    pub sum: Amount,
}

/// The proof file (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// Format version: 1.
    pub version: u32,
    /// The customer.
    pub customer: CustomerId,
    /// Their salt, hex.
    #[serde(with = "hex_32")]
    pub salt: [u8; 32],
    /// What the exchange owes them.
    #[serde(rename = "amount_sat", with = "bitcoin::amount::serde::as_sat")]
    pub amount: Amount,
    /// From the leaf up to the root.
    pub path: Vec<Step>,
    /// The root the exchange published, hex.
    #[serde(with = "hex_32")]
    pub root: [u8; 32],
    /// The total of all liabilities the root commits to.
    #[serde(rename = "total_sat", with = "bitcoin::amount::serde::as_sat")]
    pub total: Amount,
}

/// Why a proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofFailure {
    /// Not a proof file of this format.
    #[error("not an inclusion proof (format version {0}; this program reads version 1)")]
    Version(u32),
    /// The sums overflow on the way up.
    #[error("the sums overflow at step {0}: the proof is forged")]
    Overflow(usize),
    /// The path does not lead to the root the proof names.
    #[error("the path leads to root {computed}, not to the proof's root {stated}: the amount, salt or a sibling was changed")]
    NotTheProofsRoot {
        /// What the path computes.
        computed: String,
        /// What the proof says.
        stated: String,
    },
    /// The root sum differs from the proof's total.
    #[error("the path sums to {computed} sat, but the proof states a total of {stated} sat")]
    TotalMismatch {
        /// What the path sums to.
        computed: u64,
        /// What the proof says.
        stated: u64,
    },
    /// The root is not the one published.
    #[error("the proof is for root {proof}, but the published root is {published}: this balance is not in the published liabilities")]
    NotThePublishedRoot {
        /// The proof's root.
        proof: String,
        /// The root the customer was given.
        published: String,
    },
}

impl Classify for ProofFailure {
    fn exit_code(&self) -> ExitCode {
        match self {
            ProofFailure::Version(_) => ExitCode::BadInput,
            _ => ExitCode::Refused,
        }
    }
}

impl InclusionProof {
    /// The proof for `customer` in `tree`, if listed.
    pub fn of(tree: &MerkleSumTree, customer: &CustomerId, amount: Amount) -> Option<Self> {
        let (index, salt, siblings) = tree.path_of(customer)?;
        let path = siblings
            .into_iter()
            .enumerate()
            .map(|(level, n)| Step {
                side: match (index >> level) & 1 {
                    0 => Side::Right,
                    _ => Side::Left,
                },
                hash: n.hash,
                sum: n.sum,
            })
            .collect();
        let root = tree.root();
        Some(InclusionProof {
            version: 1,
            customer: customer.clone(),
            salt,
            amount,
            path,
            root: root.hash,
            total: root.sum,
        })
    }

    /// Checks the proof against the root the customer was given.
    pub fn verify(&self, published_root: &[u8; 32]) -> Result<(), ProofFailure> {
        if self.version != 1 {
            return Err(ProofFailure::Version(self.version));
        }
        let mut node = leaf(&self.customer, &self.salt, self.amount);
        for (i, step) in self.path.iter().enumerate() {
            let sibling = SumNode {
                hash: step.hash,
                sum: step.sum,
            };
            node = match step.side {
                Side::Left => parent(&sibling, &node),
                Side::Right => parent(&node, &sibling),
            }
            .ok_or(ProofFailure::Overflow(i))?;
        }
        if node.hash != self.root {
            return Err(ProofFailure::NotTheProofsRoot {
                computed: hex(&node.hash),
                stated: hex(&self.root),
            });
        }
        if node.sum != self.total {
            return Err(ProofFailure::TotalMismatch {
                computed: node.sum.to_sat(),
                stated: self.total.to_sat(),
            });
        }
        if &self.root != published_root {
            return Err(ProofFailure::NotThePublishedRoot {
                proof: hex(&self.root),
                published: hex(published_root),
            });
        }
        Ok(())
    }
}

/// Lower-case hex of 32 bytes.
pub fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 bytes from 64 hex characters.
pub fn parse_hex_32(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

mod hex_32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::hex(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        super::parse_hex_32(&text)
            .ok_or_else(|| serde::de::Error::custom("expected 64 hex characters"))
    }
}

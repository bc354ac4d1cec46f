//! The online coordinator: watch-only wallets, chain sync, proposals.
//!
//! It never holds a private key. It watches both tiers of one vault through
//! bdk wallets built from the policy's public descriptors, proposes movements
//! as PSBTs, collects approvals and signatures, finalizes and broadcasts, and
//! appends every step to a hash-chained event log in its data dir.

mod balance;
mod broadcast;
mod bump;
mod chain;
mod change;
mod complete;
mod consolidate;
mod datadir;
mod error;
mod events;
mod finalize;
mod governance;
#[cfg(test)]
mod memory_chain;
mod migrate;
mod node;
mod node_chain;
pub mod payout_csv;
mod prefetch;
mod proof;
mod proposal;
mod propose;
mod quorum;
mod rebalance;
mod recovery;
mod scripts;
mod status;
mod sync;
#[cfg(test)]
mod test_vault;
mod todo;
mod vault;
mod wallets;

pub use crate::progress::{Quiet, SyncProgress};
pub use balance::{btc, percent, TierBalance, VaultBalance};
pub use chain::{ChainBlock, ChainSource, ChainUpdates, MempoolUpdate};
pub use datadir::{DataDir, SyncState, DATA_DIR_ENV};
pub use error::{CoordinatorError, Refusal};
pub use finalize::Finalized;
pub use governance::Announcement;
pub use migrate::{SuccessorMove, DEFAULT_MIGRATION_INPUTS};
pub use node::{Config, Node, NodeArgs, NodeHealth, NodeSettings, SyncSettings};
pub use payout_csv::{parse_payouts, read_payouts, Payout};
pub use proposal::{Proposal, ProposedOutput};
pub use propose::{parse_fee_rate, FALLBACK_SAT_PER_VB};
pub use quorum::{ApprovedBy, CollectionStatus, InputSignatures};
pub use rebalance::rebalance_move;
pub use status::{StatusReport, WalletTip};
pub use sync::SyncReport;
pub use todo::{OpenProposal, RecoveryClock, ToDo};
pub use vault::{Coin, Coordinator, InitReport, NewAddress};
pub use wallets::{TierWallet, VaultWallets};

//! The chain as the auditor reads it, and the vault spends found in it.

use std::collections::HashMap;

use bitcoin::hashes::Hash;
use bitcoin::key::Secp256k1;
use bitcoin::{Address, Amount, Block, BlockHash, Network, OutPoint, ScriptBuf, Transaction, Txid};
use serde::Serialize;

use super::scripts::{ScriptOwner, VaultScripts};
use crate::policy::Tier;
use crate::progress::SyncProgress;

/// What reconciling needs of a node: blocks by height and the mempool.
/// Bitcoin Core over RPC in production; blocks in memory in unit tests.
pub trait ChainHistory {
    /// The error of the node.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Height of the best block.
    fn tip_height(&self) -> Result<u64, Self::Error>;
    /// The best chain's block at `height`.
    fn block_at(&self, height: u64) -> Result<Block, Self::Error>;
    /// The transactions in the mempool, parents before children.
    fn mempool(&self) -> Result<Vec<Transaction>, Self::Error>;
}

/// Where a spend is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum SpendStatus {
    /// In a block of the best chain.
    Confirmed {
        /// Its height.
        height: u64,
        /// Its hash.
        block: BlockHash,
    },
    /// In the node's mempool, not yet in a block.
    Unconfirmed,
}

/// A vault input of a spend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpentInput {
    /// Position in the transaction.
    pub input: usize,
    /// The coin spent.
    pub outpoint: OutPoint,
    /// The tier whose script it was.
    pub tier: Tier,
    /// Its value, when the walk saw it funded (not for coins funded before
    /// the first height walked).
    #[serde(rename = "amount_sat", with = "crate::audit::event::optional_sat")]
    pub amount: Option<Amount>,
}

/// Where an output of a spend goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "to", rename_all = "kebab-case")]
pub enum OutputDestination {
    /// Back into the vault.
    Vault {
        /// The tier.
        tier: Tier,
        /// The given policies that derive the script (a successor's own
        /// scripts are derived by it alone).
        #[serde(skip)]
        policies: std::collections::BTreeSet<crate::policy::PolicyId>,
    },
    /// Outside the vault.
    External {
        /// Its address, if the script has one.
        address: Option<String>,
    },
}

/// An output of a spend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpendOutput {
    /// Where it goes.
    #[serde(flatten)]
    pub destination: OutputDestination,
    /// Its value.
    #[serde(rename = "amount_sat", with = "bitcoin::amount::serde::as_sat")]
    pub amount: Amount,
    /// Its script, for the rules that judge destinations.
    #[serde(skip)]
    pub script: ScriptBuf,
}

/// A transaction that spends at least one vault coin.
#[derive(Debug, Clone, Serialize)]
pub struct VaultSpend {
    /// The transaction.
    pub txid: Txid,
    /// Where it is.
    #[serde(flatten)]
    pub status: SpendStatus,
    /// Its vault inputs.
    pub inputs: Vec<SpentInput>,
    /// Inputs that are not the vault's.
    pub foreign_inputs: usize,
    /// Its outputs.
    pub outputs: Vec<SpendOutput>,
    /// The policies that derive every vault input's script.
    #[serde(skip)]
    pub(super) policies: std::collections::BTreeSet<crate::policy::PolicyId>,
}

/// What the vault held after one block, counting only coins funded during
/// the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BalanceAt {
    /// The block.
    pub height: u64,
    /// Its timestamp (Unix seconds).
    pub time: u64,
    /// Cold holdings.
    #[serde(rename = "cold_sat", with = "bitcoin::amount::serde::as_sat")]
    pub cold: Amount,
    /// Hot holdings.
    #[serde(rename = "hot_sat", with = "bitcoin::amount::serde::as_sat")]
    pub hot: Amount,
}

/// What a walk of the chain found.
#[derive(Debug, Clone)]
pub struct ChainWalk {
    /// Every vault spend, confirmed then unconfirmed.
    pub spends: Vec<VaultSpend>,
    /// The tip walked to.
    pub tip_height: u64,
    /// Its hash.
    pub tip_hash: BlockHash,
    /// Its timestamp (Unix seconds).
    pub tip_time: u64,
    /// The vault's holdings after each block walked.
    pub balances: Vec<BalanceAt>,
}

/// Walks blocks `from..=tip` and then the mempool: every vault spend, and
/// the vault's holdings after each block.
pub fn walk_chain<H: ChainHistory>(
    history: &H,
    scripts: &VaultScripts,
    network: Network,
    from: u64,
    progress: &dyn SyncProgress,
) -> Result<ChainWalk, H::Error> {
    let tip_height = history.tip_height()?;
    progress.start(
        "blocks",
        u32::try_from(from).unwrap_or(u32::MAX),
        tip_height,
    );
    let mut walk = Walk {
        scripts,
        network,
        coins: HashMap::new(),
        spends: Vec::new(),
    };
    let mut balances = Vec::new();
    let (mut tip_hash, mut tip_time) = (BlockHash::all_zeros(), 0);
    for height in from..=tip_height {
        let block = history.block_at(height)?;
        tip_hash = block.block_hash();
        tip_time = u64::from(block.header.time);
        let status = SpendStatus::Confirmed {
            height,
            block: tip_hash,
        };
        for tx in &block.txdata {
            walk.see(tx, status);
        }
        let (cold, hot) = walk.holdings();
        balances.push(BalanceAt {
            height,
            time: tip_time,
            cold,
            hot,
        });
        progress.advance(height);
    }
    progress.finish();
    for tx in history.mempool()? {
        walk.see(&tx, SpendStatus::Unconfirmed);
    }
    Ok(ChainWalk {
        spends: walk.spends,
        tip_height,
        tip_hash,
        tip_time,
        balances,
    })
}

struct Walk<'a> {
    scripts: &'a VaultScripts,
    network: Network,
    /// Vault coins funded during the walk and not yet spent.
    coins: HashMap<OutPoint, (ScriptOwner, Amount)>,
    spends: Vec<VaultSpend>,
}

impl Walk<'_> {
    /// Cold and hot holdings among the coins the walk knows.
    fn holdings(&self) -> (Amount, Amount) {
        let mut held = (Amount::ZERO, Amount::ZERO);
        for (owner, amount) in self.coins.values() {
            let tier = match owner.tier {
                Tier::Cold => &mut held.0,
                Tier::Hot => &mut held.1,
            };
            // Coins on chain sum far below Amount::MAX.
            *tier += *amount;
        }
        held
    }

    fn see(&mut self, tx: &Transaction, status: SpendStatus) {
        let secp = Secp256k1::verification_only();
        let mut inputs = Vec::new();
        let mut policies = None::<std::collections::BTreeSet<_>>;
        let mut foreign_inputs = 0;
        for (i, input) in tx.input.iter().enumerate() {
            let outpoint = input.previous_output;
            let (owner, amount) = match self.coins.remove(&outpoint) {
                Some((owner, amount)) => (owner, Some(amount)),
                None => match self.scripts.owner_by_witness(&secp, &input.witness) {
                    Some(owner) => (owner.clone(), None),
                    None => {
                        foreign_inputs += 1;
                        continue;
                    }
                },
            };
            policies = Some(match policies {
                None => owner.policies.clone(),
                Some(p) => p.intersection(&owner.policies).cloned().collect(),
            });
            inputs.push(SpentInput {
                input: i,
                outpoint,
                tier: owner.tier,
                amount,
            });
        }
        let txid = tx.compute_txid();
        let mut outputs = Vec::new();
        for (vout, out) in tx.output.iter().enumerate() {
            let destination = match self.scripts.owner(&out.script_pubkey) {
                Some(owner) => {
                    let tier = owner.tier;
                    self.coins
                        .insert(OutPoint::new(txid, vout as u32), (owner.clone(), out.value));
                    OutputDestination::Vault {
                        tier,
                        policies: owner.policies.clone(),
                    }
                }
                None => OutputDestination::External {
                    address: Address::from_script(&out.script_pubkey, self.network)
                        .ok()
                        .map(|a| a.to_string()),
                },
            };
            outputs.push(SpendOutput {
                destination,
                amount: out.value,
                script: out.script_pubkey.clone(),
            });
        }
        if !inputs.is_empty() {
            self.spends.push(VaultSpend {
                txid,
                status,
                inputs,
                foreign_inputs,
                outputs,
                policies: policies.unwrap_or_default(),
            });
        }
    }
}

//! [`UtxoScanner`] over Bitcoin Core's `scantxoutset`.

use bdk_bitcoind_rpc::bitcoincore_rpc::{self, Client, RpcApi};
use bitcoin::{Amount, Block, BlockHash, OutPoint, ScriptBuf, Transaction, TxOut};
use serde::Deserialize;
use serde_json::json;

use super::balances::{ScannedOutput, UtxoScanner};
use super::reconcile::ChainHistory;
use super::unspent::UnspentOutputs;
use crate::error::{Classify, ExitCode};

/// The node could not scan.
#[derive(Debug, thiserror::Error)]
#[error("the node could not scan the UTXO set: {0}; check that bitcoind runs, that --rpc-url and the credentials are right, and that no other scan is in progress")]
pub struct ScanError(String);

impl Classify for ScanError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::NodeOrIo
    }
}

/// Scans with `scantxoutset` on a Bitcoin Core node.
pub struct CoreScanner<'a> {
    client: &'a Client,
}

impl<'a> CoreScanner<'a> {
    /// A scanner on this node.
    pub fn new(client: &'a Client) -> Self {
        CoreScanner { client }
    }
}

#[derive(Deserialize)]
struct ScanResult {
    success: bool,
    height: u64,
    unspents: Vec<Unspent>,
}

#[derive(Deserialize)]
struct Unspent {
    #[serde(rename = "scriptPubKey")]
    script_pubkey: String,
    amount: f64,
    height: u64,
}

impl UtxoScanner for CoreScanner<'_> {
    type Error = ScanError;

    fn scan(
        &self,
        descriptors: &[String],
        last_index: u32,
    ) -> Result<(Vec<ScannedOutput>, u64), ScanError> {
        let objects: Vec<_> = descriptors
            .iter()
            .map(|d| json!({"desc": d, "range": [0, last_index]}))
            .collect();
        let result: ScanResult = self
            .client
            .call("scantxoutset", &[json!("start"), json!(objects)])
            .map_err(|e: bitcoincore_rpc::Error| ScanError(e.to_string()))?;
        if !result.success {
            return Err(ScanError("scantxoutset reported failure".into()));
        }
        let outputs = result
            .unspents
            .into_iter()
            .map(|u| {
                Ok(ScannedOutput {
                    script_pubkey: ScriptBuf::from_hex(&u.script_pubkey)
                        .map_err(|e| ScanError(format!("bad script from node: {e}")))?,
                    amount: Amount::from_btc(u.amount)
                        .map_err(|e| ScanError(format!("bad amount from node: {e}")))?,
                    height: u.height,
                })
            })
            .collect::<Result<Vec<_>, ScanError>>()?;
        Ok((outputs, result.height))
    }
}

/// A call to the node failed while walking the chain.
#[derive(Debug, thiserror::Error)]
#[error("the node failed `{call}`: {source}")]
pub struct HistoryError {
    /// The RPC call.
    pub call: &'static str,
    /// What the client said.
    pub source: bitcoincore_rpc::Error,
}

/// [`ChainHistory`] over Bitcoin Core's RPC: `getblockhash` and `getblock`
/// for the blocks (no `-txindex` needed), `getrawmempool` and
/// `getrawtransaction` for the mempool.
pub struct CoreHistory<'a> {
    client: &'a Client,
}

impl<'a> CoreHistory<'a> {
    /// The chain of this node.
    pub fn new(client: &'a Client) -> Self {
        CoreHistory { client }
    }
}

impl ChainHistory for CoreHistory<'_> {
    type Error = HistoryError;

    fn tip_height(&self) -> Result<u64, HistoryError> {
        self.client
            .get_block_count()
            .map_err(|source| HistoryError {
                call: "getblockcount",
                source,
            })
    }

    fn block_at(&self, height: u64) -> Result<Block, HistoryError> {
        let hash = self
            .client
            .get_block_hash(height)
            .map_err(|source| HistoryError {
                call: "getblockhash",
                source,
            })?;
        self.client.get_block(&hash).map_err(|source| HistoryError {
            call: "getblock",
            source,
        })
    }

    fn mempool(&self) -> Result<Vec<Transaction>, HistoryError> {
        let txids = self
            .client
            .get_raw_mempool()
            .map_err(|source| HistoryError {
                call: "getrawmempool",
                source,
            })?;
        let mut txs = Vec::new();
        for txid in txids {
            // A transaction can leave the mempool between the two calls.
            match self.client.get_raw_transaction(&txid, None) {
                Ok(tx) => txs.push(tx),
                Err(bitcoincore_rpc::Error::JsonRpc(_)) => continue,
                Err(source) => {
                    return Err(HistoryError {
                        call: "getrawtransaction",
                        source,
                    })
                }
            }
        }
        Ok(parents_first(txs))
    }
}

impl UnspentOutputs for CoreHistory<'_> {
    type Error = HistoryError;

    fn tip(&self) -> Result<(u64, BlockHash), HistoryError> {
        let info = self
            .client
            .get_blockchain_info()
            .map_err(|source| HistoryError {
                call: "getblockchaininfo",
                source,
            })?;
        Ok((info.blocks, info.best_block_hash))
    }

    fn unspent(&self, outpoint: OutPoint) -> Result<Option<TxOut>, HistoryError> {
        // Without the mempool: a coin a pending transaction spends is still
        // the vault's, and one a pending transaction creates is not yet.
        let found = self
            .client
            .get_tx_out(&outpoint.txid, outpoint.vout, Some(false))
            .map_err(|source| HistoryError {
                call: "gettxout",
                source,
            })?;
        found
            .map(|out| {
                Ok(TxOut {
                    value: out.value,
                    script_pubkey: out.script_pub_key.script().map_err(|e| HistoryError {
                        call: "gettxout",
                        source: bitcoincore_rpc::Error::ReturnedError(format!(
                            "a script the client cannot read: {e}"
                        )),
                    })?,
                })
            })
            .transpose()
    }
}

/// Orders mempool transactions so that a parent comes before its children,
/// as the walk needs to know a coin before it sees it spent.
fn parents_first(mut txs: Vec<Transaction>) -> Vec<Transaction> {
    let mut out = Vec::with_capacity(txs.len());
    while !txs.is_empty() {
        let pending: std::collections::HashSet<_> =
            txs.iter().map(Transaction::compute_txid).collect();
        let (ready, waiting): (Vec<_>, Vec<_>) = txs.into_iter().partition(|tx| {
            tx.input
                .iter()
                .all(|i| !pending.contains(&i.previous_output.txid))
        });
        if ready.is_empty() {
            // A cycle cannot happen in a valid mempool; keep what is left.
            out.extend(waiting);
            break;
        }
        out.extend(ready);
        txs = waiting;
    }
    out
}

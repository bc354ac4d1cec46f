//! [`UtxoScanner`] over Bitcoin Core's `scantxoutset`.

use bdk_bitcoind_rpc::bitcoincore_rpc::{self, Client, RpcApi};
use bitcoin::{Amount, ScriptBuf};
use serde::Deserialize;
use serde_json::json;

use super::balances::{ScannedOutput, UtxoScanner};
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

//! The UTXO set as an auditor sees it: what a proof of control is checked
//! against (a coin signed for must still be unspent, with the amount and
//! script the proof claims).

use bitcoin::{BlockHash, OutPoint, TxOut};

/// Looks coins up in the confirmed UTXO set of a node the auditor trusts.
pub trait UnspentOutputs {
    /// What a failed lookup reports.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The tip the lookups answer for: its height and hash.
    fn tip(&self) -> Result<(u64, BlockHash), Self::Error>;

    /// The confirmed unspent output at `outpoint`, or `None` when it was
    /// spent or never existed.
    fn unspent(&self, outpoint: OutPoint) -> Result<Option<TxOut>, Self::Error>;
}

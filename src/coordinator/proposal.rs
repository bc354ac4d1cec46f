//! What a proposal produced, as reported to the operator.

use std::path::PathBuf;

use bitcoin::{Amount, Txid};
use serde::Serialize;

use crate::psbt::Movement;

use super::balance::btc;

pub use crate::audit::ProposedOutput;

/// What a proposal produced.
#[derive(Debug, Clone, Serialize)]
pub struct Proposal {
    /// The kind of movement.
    pub movement: Movement,
    /// The unsigned transaction's id.
    pub txid: Txid,
    /// Where the PSBT was written.
    pub file: PathBuf,
    /// What leaves the source wallet (to the other tier or outside).
    #[serde(rename = "amount_sat", with = "bitcoin::amount::serde::as_sat")]
    pub amount: Amount,
    /// The fee.
    #[serde(rename = "fee_sat", with = "bitcoin::amount::serde::as_sat")]
    pub fee: Amount,
    /// The fee rate asked of the wallet, sat/vB.
    pub fee_rate_sat_vb: f64,
    /// Estimated size once signed.
    pub vsize: u64,
    /// Outputs.
    pub outputs: Vec<ProposedOutput>,
    /// The cold share after the transaction confirms.
    pub cold_percent_after: f64,
    /// Approvals needed before signers sign (cold→hot).
    pub approvals_needed: usize,
    /// Departments needed among them.
    pub departments_needed: usize,
    /// Anything the operator should know, e.g. a rebalance capped by a rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The transaction this one replaces (a fee bump).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<Txid>,
}

impl Proposal {
    /// The proposal for people.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "proposed {} {}: {} moves, fee {} ({} sat/vB, ~{} vB)\n",
            self.movement.describe(),
            self.txid,
            btc(self.amount),
            btc(self.fee),
            self.fee_rate_sat_vb,
            self.vsize
        );
        for o in &self.outputs {
            s.push_str(&format!(
                "  {:>20}  {:<8} {}\n",
                btc(o.amount),
                o.role,
                o.address.as_deref().unwrap_or("(no address)")
            ));
        }
        s.push_str(&format!(
            "cold share after it confirms: {:.2}%\nwritten to {}\n",
            self.cold_percent_after,
            self.file.display()
        ));
        if let Some(note) = &self.note {
            s.push_str(&format!("note: {note}\n"));
        }
        if self.approvals_needed > 0 {
            s.push_str(&format!(
                "next: collect {} approvals from {} departments, then signatures\n",
                self.approvals_needed, self.departments_needed
            ));
        } else {
            s.push_str("next: collect signatures\n");
        }
        s
    }
}

//! Reserves against liabilities: the exchange's customer balances, checked
//! line by line, summed in a Merkle-sum tree whose root it publishes, and
//! set against what the chain holds for the vault. Each customer can check
//! their own balance is in the root with an inclusion proof, without seeing
//! anyone else's (see docs/auditor.md for the construction and a vector).

mod liabilities;
mod merkle_sum;
mod proof;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use bitcoin::Amount;
use serde::Serialize;

pub use liabilities::{
    parse_liabilities, read_liabilities, CustomerId, LiabilitiesError, Liability, LiabilityProblem,
};
pub use merkle_sum::{leaf, padding, parent, salt, MerkleSumTree, SumNode};
pub use proof::{hex, parse_hex_32, InclusionProof, ProofFailure, Side, Step};

use super::balances::BalanceReport;
use crate::error::{Classify, ExitCode};
use crate::policy::format_amount;
use crate::transport::private::read_private_secret;
use crate::transport::PrivateFileError;

/// The shortest salt secret accepted: 32 bytes, as many as the salts.
pub const MIN_SECRET_BYTES: usize = 32;

/// Why reserves or a proof could not be computed or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReservesError {
    /// The liabilities file was refused.
    #[error(transparent)]
    Liabilities(#[from] LiabilitiesError),
    /// The salt secret could not be read (or others can read it).
    #[error(transparent)]
    Secret(#[from] PrivateFileError),
    /// The salt secret is too short to hide anything.
    #[error("the salt secret {path} holds {len} bytes; use at least {MIN_SECRET_BYTES} random bytes (e.g. `head -c 32 /dev/urandom > FILE; chmod 600 FILE`) and keep it: every later proof needs it")]
    ShortSecret {
        /// The file.
        path: PathBuf,
        /// Its length.
        len: usize,
    },
    /// The customer is not in the liabilities.
    #[error("customer `{0}` is not in the liabilities file")]
    UnknownCustomer(CustomerId),
    /// A proof file does not read.
    #[error("{path} is not an inclusion proof: {reason}")]
    BadProof {
        /// The file.
        path: PathBuf,
        /// What serde found.
        reason: String,
    },
}

impl Classify for ReservesError {
    fn exit_code(&self) -> ExitCode {
        match self {
            ReservesError::Liabilities(e) => e.exit_code(),
            ReservesError::Secret(e) => e.exit_code(),
            _ => ExitCode::BadInput,
        }
    }
}

/// The customers' balances and their tree.
#[derive(Debug, Clone)]
pub struct Liabilities {
    /// Every customer, in file order.
    pub list: Vec<Liability>,
    /// Their Merkle-sum tree.
    pub tree: MerkleSumTree,
}

impl Liabilities {
    /// Reads the liabilities file and builds the tree with the salts of the
    /// secret in `secret_file` (which only its owner may read).
    pub fn read(csv: &Path, secret_file: &Path) -> Result<Liabilities, ReservesError> {
        let list = read_liabilities(csv)?;
        let secret = read_private_secret(secret_file)?;
        if secret.len() < MIN_SECRET_BYTES {
            return Err(ReservesError::ShortSecret {
                path: secret_file.to_owned(),
                len: secret.len(),
            });
        }
        let tree = MerkleSumTree::build(&list, &secret);
        Ok(Liabilities { list, tree })
    }

    /// The inclusion proof of `customer`.
    pub fn proof(&self, customer: &CustomerId) -> Result<InclusionProof, ReservesError> {
        let amount = self
            .list
            .iter()
            .find(|l| &l.customer == customer)
            .map(|l| l.amount)
            .ok_or_else(|| ReservesError::UnknownCustomer(customer.clone()))?;
        Ok(InclusionProof::of(&self.tree, customer, amount).expect("a listed customer has a leaf"))
    }
}

/// Reads a proof file.
pub fn read_proof(path: &Path) -> Result<InclusionProof, ReservesError> {
    let bad = |reason: String| ReservesError::BadProof {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| bad(e.to_string()))
}

/// Assets against liabilities at one tip.
#[derive(Debug, Clone, Serialize)]
pub struct ReservesReport {
    /// The tip the assets were scanned at.
    pub height: u64,
    /// What the vault holds (cold and hot), from the UTXO set.
    #[serde(rename = "assets_sat", with = "bitcoin::amount::serde::as_sat")]
    pub assets: Amount,
    /// What the exchange owes its customers.
    #[serde(rename = "liabilities_sat", with = "bitcoin::amount::serde::as_sat")]
    pub liabilities: Amount,
    /// Customers listed.
    pub customers: usize,
    /// Assets over liabilities, in percent (none without liabilities).
    pub coverage_percent: Option<f64>,
    /// The Merkle-sum root to publish, hex.
    pub root: String,
    /// Whether assets cover liabilities.
    pub covered: bool,
}

/// Assets below liabilities (exit code 1).
#[derive(Debug, Clone, thiserror::Error)]
#[error("audit finding: the vault holds {assets} but owes its customers {liabilities}; the shortfall is {shortfall}")]
pub struct ShortfallFinding {
    /// Assets.
    pub assets: String,
    /// Liabilities.
    pub liabilities: String,
    /// The difference.
    pub shortfall: String,
}

impl Classify for ShortfallFinding {
    fn exit_code(&self) -> ExitCode {
        ExitCode::Refused
    }
}

impl ReservesReport {
    /// Sets `liabilities` against the `balances` scanned from the chain.
    pub fn new(balances: &BalanceReport, liabilities: &Liabilities) -> ReservesReport {
        let root = liabilities.tree.root();
        let coverage_percent = (root.sum > Amount::ZERO).then(|| {
            // Rounded down: a shortfall must never print as 100.00 %.
            (balances.total.to_sat() as f64 * 10_000.0 / root.sum.to_sat() as f64).floor() / 100.0
        });
        ReservesReport {
            height: balances.height,
            assets: balances.total,
            liabilities: root.sum,
            customers: liabilities.list.len(),
            coverage_percent,
            root: hex(&root.hash),
            covered: balances.total >= root.sum,
        }
    }

    /// The finding, if assets fall short.
    pub fn finding(&self) -> Option<ShortfallFinding> {
        (!self.covered).then(|| ShortfallFinding {
            assets: format_amount(self.assets),
            liabilities: format_amount(self.liabilities),
            shortfall: format_amount(self.liabilities - self.assets),
        })
    }

    /// The report for people.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "reserves at height {}", self.height);
        let _ = writeln!(s, "  assets       {:>20}", format_amount(self.assets));
        let _ = writeln!(
            s,
            "  liabilities  {:>20}  ({} customers)",
            format_amount(self.liabilities),
            self.customers
        );
        let _ = writeln!(
            s,
            "  coverage     {}: {}",
            self.coverage_percent
                .map_or_else(|| "n/a".to_owned(), |p| format!("{p:.2}%")),
            if self.covered {
                "OK"
            } else {
                "FINDING: assets below liabilities"
            }
        );
        let _ = writeln!(
            s,
            "  Merkle-sum root {} (publish it with the total)",
            self.root
        );
        s
    }
}

#[cfg(test)]
mod tests;

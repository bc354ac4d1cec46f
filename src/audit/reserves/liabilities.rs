//! The liabilities file: one `customer,amount` row per customer, e.g.
//!
//! ```text
//! customer,amount
//! c-000001,0.25 BTC
//! c-000002,150000 sat
//! ```
//!
//! A header row is optional, `#` starts a comment, blank lines are skipped.
//! Every problem names its line, and the whole file is refused if any line
//! is bad: a liabilities total that silently skipped a customer would
//! understate what the exchange owes.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use bitcoin::Amount;
use serde::{Deserialize, Serialize};

use crate::error::{Classify, ExitCode};
use crate::policy::{parse_amount, UnitError};

/// A customer's id as the exchange gives it: 1 to 64 characters of
/// letters, digits and `._-@`, so that it cannot smuggle a comma, a
/// newline or invisible text into a proof.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomerId(String);

impl CustomerId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CustomerId {
    type Error = LiabilityProblem;
    fn try_from(s: String) -> Result<Self, LiabilityProblem> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
        match ok {
            true => Ok(CustomerId(s)),
            false => Err(LiabilityProblem::BadCustomer(s)),
        }
    }
}

impl std::str::FromStr for CustomerId {
    type Err = LiabilityProblem;
    fn from_str(s: &str) -> Result<Self, LiabilityProblem> {
        CustomerId::try_from(s.to_owned())
    }
}

impl From<CustomerId> for String {
    fn from(id: CustomerId) -> String {
        id.0
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One customer's balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Liability {
    /// 1-based line in the file.
    pub line: usize,
    /// The customer.
    pub customer: CustomerId,
    /// What the exchange owes them.
    pub amount: Amount,
}

/// What is wrong with one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LiabilityProblem {
    /// Not two comma-separated columns.
    #[error("expected 2 columns (customer,amount), found {0}")]
    Columns(usize),
    /// The customer id is empty or has characters outside `[A-Za-z0-9._-@]`.
    #[error("`{0}` is not a customer id; use 1 to 64 letters, digits, `.`, `_`, `-` or `@`")]
    BadCustomer(String),
    /// The amount does not parse (a unit is required; no negatives).
    #[error("{0}")]
    BadAmount(UnitError),
    /// The customer appears twice.
    #[error("customer `{customer}` is listed again (first on line {first_line}); give one line per customer")]
    Duplicate {
        /// The customer.
        customer: CustomerId,
        /// Where it first appears.
        first_line: usize,
    },
    /// The total overflows what bitcoin can hold.
    #[error("the liabilities add up to more than 21 million BTC")]
    TotalOverflow,
}

/// Why the liabilities file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiabilitiesError {
    /// The file could not be read.
    #[error("cannot read the liabilities file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A line is bad.
    #[error("{path} line {line}: {problem}; fix the line (nothing was computed)")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: LiabilityProblem,
    },
    /// No customer at all.
    #[error("{0} lists no customer; give one `customer,amount` line per customer")]
    Empty(PathBuf),
}

impl Classify for LiabilitiesError {
    fn exit_code(&self) -> ExitCode {
        match self {
            LiabilitiesError::Read { .. } => ExitCode::NodeOrIo,
            _ => ExitCode::BadInput,
        }
    }
}

/// Reads and checks a liabilities file.
pub fn read_liabilities(path: &Path) -> Result<Vec<Liability>, LiabilitiesError> {
    let text = std::fs::read_to_string(path).map_err(|source| LiabilitiesError::Read {
        path: path.to_owned(),
        source,
    })?;
    let list = parse_liabilities(&text).map_err(|(line, problem)| LiabilitiesError::Line {
        path: path.to_owned(),
        line,
        problem,
    })?;
    match list.is_empty() {
        true => Err(LiabilitiesError::Empty(path.to_owned())),
        false => Ok(list),
    }
}

/// Parses the rows of a liabilities file; the first bad line and why.
pub fn parse_liabilities(text: &str) -> Result<Vec<Liability>, (usize, LiabilityProblem)> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<CustomerId, usize> = BTreeMap::new();
    let mut total = Amount::ZERO;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let row = raw.trim();
        if row.is_empty() || row.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = row.split(',').map(str::trim).collect();
        if cols.len() != 2 {
            return Err((line, LiabilityProblem::Columns(cols.len())));
        }
        if out.is_empty() && seen.is_empty() && cols[0].eq_ignore_ascii_case("customer") {
            continue;
        }
        let customer = CustomerId::try_from(cols[0].to_owned()).map_err(|p| (line, p))?;
        let amount = parse_amount(cols[1]).map_err(|e| (line, LiabilityProblem::BadAmount(e)))?;
        total = total
            .checked_add(amount)
            .filter(|t| *t <= Amount::MAX_MONEY)
            .ok_or((line, LiabilityProblem::TotalOverflow))?;
        if let Some(&first_line) = seen.get(&customer) {
            return Err((
                line,
                LiabilityProblem::Duplicate {
                    customer,
                    first_line,
                },
            ));
        }
        seen.insert(customer.clone(), line);
        out.push(Liability {
            line,
            customer,
            amount,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_rows_parse_and_bad_ones_name_their_line() {
        let list =
            parse_liabilities("customer,amount\n# a comment\nalice,1 BTC\n\nbob@x,150000 sat\n")
                .unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(
            (list[1].line, list[1].amount),
            (5, Amount::from_sat(150_000))
        );
        let problem = |text: &str| parse_liabilities(text).unwrap_err();
        assert_eq!(problem("alice,1 BTC,x\n").0, 1);
        assert!(matches!(
            problem("a,1 BTC\nb c,1 BTC\n"),
            (2, LiabilityProblem::BadCustomer(_))
        ));
        assert!(matches!(
            problem("a,1\n"),
            (1, LiabilityProblem::BadAmount(_))
        ));
        assert!(matches!(
            problem("a,-1 BTC\n"),
            (1, LiabilityProblem::BadAmount(_))
        ));
        assert!(matches!(
            problem(",1 BTC\n"),
            (1, LiabilityProblem::BadCustomer(_))
        ));
        assert_eq!(
            problem("a,1 BTC\nb,1 BTC\na,2 BTC\n"),
            (
                3,
                LiabilityProblem::Duplicate {
                    customer: CustomerId("a".into()),
                    first_line: 1
                }
            )
        );
        assert!(matches!(
            problem("a,20000000 BTC\nb,2000000 BTC\n"),
            (2, LiabilityProblem::TotalOverflow)
        ));
    }
}

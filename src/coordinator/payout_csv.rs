//! The payout file: one `address,amount` row per payee, e.g.
//!
//! ```text
//! address,amount
//! bcrt1qn6y5jd4gp208cx6px2crc48dvkc5k3028w88ml,0.25 BTC
//! bcrt1qgdkc6pm0dca7gv44juwa0ks43u3qe2jehqn8hu,150000 sat
//! ```
//!
//! A header row is optional, `#` starts a comment, blank lines are skipped.
//! Every problem names its line; the whole file is refused if any line is bad.

use std::collections::BTreeMap;
use std::path::Path;

use bitcoin::address::NetworkUnchecked;
use bitcoin::{Address, Amount, Network};

use crate::policy::parse_amount;

use super::error::CoordinatorError;

/// One payee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    /// 1-based line in the file.
    pub line: usize,
    /// Where to pay, checked against the vault's network.
    pub address: Address,
    /// How much.
    pub amount: Amount,
}

/// Reads and checks a payout file.
pub fn read_payouts(path: &Path, network: Network) -> Result<Vec<Payout>, CoordinatorError> {
    let text = std::fs::read_to_string(path).map_err(|e| CoordinatorError::Csv {
        path: path.to_owned(),
        line: 0,
        reason: format!("cannot read the file: {e}"),
    })?;
    parse_payouts(&text, network).map_err(|(line, reason)| CoordinatorError::Csv {
        path: path.to_owned(),
        line,
        reason,
    })
}

/// Parses payout rows; an error is (line, reason).
pub fn parse_payouts(text: &str, network: Network) -> Result<Vec<Payout>, (usize, String)> {
    let mut payouts = Vec::new();
    let mut seen: BTreeMap<Address, usize> = BTreeMap::new();
    let mut first_row = true;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let row = raw.trim();
        if row.is_empty() || row.starts_with('#') {
            continue;
        }
        let is_first = std::mem::replace(&mut first_row, false);
        let fields: Vec<&str> = row.split(',').map(str::trim).collect();
        if is_first
            && fields
                .first()
                .is_some_and(|f| f.eq_ignore_ascii_case("address"))
        {
            continue;
        }
        let [address, amount] = fields.as_slice() else {
            return Err((
                line,
                format!("expected `address,amount`, found {} field(s)", fields.len()),
            ));
        };
        let unchecked: Address<NetworkUnchecked> = address
            .parse()
            .map_err(|e| (line, format!("`{address}` is not a bitcoin address ({e})")))?;
        let address = unchecked.require_network(network).map_err(|_| {
            (
                line,
                format!("`{address}` is not an address of the vault's network ({network})"),
            )
        })?;
        let amount = parse_amount(amount).map_err(|e| (line, e.to_string()))?;
        if amount == Amount::ZERO {
            return Err((line, "the amount is zero".into()));
        }
        if let Some(earlier) = seen.insert(address.clone(), line) {
            return Err((
                line,
                format!(
                    "{address} is listed twice (also on line {earlier}); merge the rows into one"
                ),
            ));
        }
        payouts.push(Payout {
            line,
            address,
            amount,
        });
    }
    if payouts.is_empty() {
        return Err((
            0,
            "no payouts in the file; expected `address,amount` rows".into(),
        ));
    }
    Ok(payouts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P1: &str = "bcrt1qn6y5jd4gp208cx6px2crc48dvkc5k3028w88ml";
    const P2: &str = "bcrt1qgdkc6pm0dca7gv44juwa0ks43u3qe2jehqn8hu";

    fn err(text: &str) -> (usize, String) {
        parse_payouts(text, Network::Regtest).unwrap_err()
    }

    #[test]
    fn good_file_parses() {
        let text = format!("address,amount\n# comment\n{P1},0.25 BTC\n\n{P2}, 1500 sat\n");
        let p = parse_payouts(&text, Network::Regtest).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].line, 3);
        assert_eq!(p[0].amount, Amount::from_sat(25_000_000));
        assert_eq!(p[1].line, 5);
        assert_eq!(p[1].amount, Amount::from_sat(1500));
    }

    #[test]
    fn bad_rows_name_their_line() {
        assert_eq!(err("").0, 0);
        assert_eq!(err("address,amount\n").0, 0);
        let (line, reason) = err(&format!("{P1},1 BTC\n{P1},2 BTC\n"));
        assert_eq!(line, 2);
        assert!(
            reason.contains("twice") && reason.contains("line 1"),
            "{reason}"
        );
        let (line, reason) = err(&format!("{P1},1 BTC\n{P2},5\n"));
        assert_eq!(line, 2);
        assert!(reason.contains("no unit"), "{reason}");
        let (line, reason) = err("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq,1 BTC\n");
        assert_eq!(line, 1);
        assert!(reason.contains("network"), "{reason}");
        assert_eq!(err(&format!("{P1},0 sat\n")).0, 1);
        assert_eq!(err(&format!("{P1},1 BTC,x\n")).0, 1);
        assert_eq!(err("nonsense,1 BTC\n").0, 1);
    }
}

//! Amounts and fee rates as people write them in a policy: `"5 BTC"`,
//! `"1500 sat"`, `"20 sat/vB"`.

use std::fmt;
use std::str::FromStr;

use bitcoin::{Amount, Denomination};

/// Why a text is not an amount or a fee rate; each message says how to
/// write one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnitError {
    /// A number without a unit.
    #[error("`{0}` has no unit; write it like \"5 BTC\" or \"1500 sat\"")]
    NoUnit(String),
    /// A unit other than BTC, mBTC or sat.
    #[error("unknown unit `{unit}` in `{text}`; use BTC, mBTC or sat")]
    UnknownUnit {
        /// The whole text.
        text: String,
        /// The unit written.
        unit: String,
    },
    /// The number does not make an amount (negative, too precise, too large).
    #[error("`{text}` is not an amount ({reason}); write it like \"5 BTC\" or \"1500 sat\"")]
    NotAnAmount {
        /// The whole text.
        text: String,
        /// What rust-bitcoin found wrong.
        reason: bitcoin::amount::ParseAmountError,
    },
    /// Not `<number> sat/vB` with at most three decimals.
    #[error("`{0}` is not a fee rate (at most three decimals); write it like \"20 sat/vB\"")]
    NotAFeeRate(String),
    /// A fee rate beyond what can be held.
    #[error("`{0}` is too large; write it like \"20 sat/vB\"")]
    FeeRateTooLarge(String),
}

/// Parses `"<number> <unit>"` with unit BTC, mBTC, sat (or sats, satoshi).
/// A bare number is refused: a missing unit is how 5 sat turns into 5 BTC.
pub fn parse_amount(text: &str) -> Result<Amount, UnitError> {
    let text = text.trim();
    let (number, unit) = text
        .rsplit_once(char::is_whitespace)
        .ok_or_else(|| UnitError::NoUnit(text.to_owned()))?;
    let denomination = match unit.trim() {
        "BTC" | "btc" => Denomination::Bitcoin,
        "mBTC" => Denomination::MilliBitcoin,
        "sat" | "sats" | "satoshi" | "satoshis" => Denomination::Satoshi,
        other => {
            return Err(UnitError::UnknownUnit {
                text: text.to_owned(),
                unit: other.to_owned(),
            })
        }
    };
    Amount::from_str_in(number.trim(), denomination).map_err(|reason| UnitError::NotAnAmount {
        text: text.to_owned(),
        reason,
    })
}

/// Writes an amount the way a person would: whole bitcoins as `"5 BTC"`,
/// anything else in satoshis, so that the text parses back exactly.
pub fn format_amount(amount: Amount) -> String {
    let sat = amount.to_sat();
    if sat != 0 && sat.is_multiple_of(100_000_000) {
        format!("{} BTC", sat / 100_000_000)
    } else {
        format!("{sat} sat")
    }
}

/// An amount for people reading a review or a report: always eight
/// decimals, `1.23456789 BTC`, computed on integers (no float rounding).
/// The one formatter the programs use for display; [`format_amount`] is for
/// writing amounts back into a policy file.
pub fn btc(amount: Amount) -> String {
    let sat = amount.to_sat();
    format!("{}.{:08} BTC", sat / 100_000_000, sat % 100_000_000)
}

/// A fee-rate ceiling, held exactly in satoshis per 1000 virtual bytes so that
/// `"12.5 sat/vB"` loses nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeeRateLimit {
    sat_per_kvb: u64,
}

impl FeeRateLimit {
    /// A limit of `sat_per_kvb` satoshis per 1000 virtual bytes.
    pub fn from_sat_per_kvb(sat_per_kvb: u64) -> Self {
        FeeRateLimit { sat_per_kvb }
    }

    /// The limit in satoshis per 1000 virtual bytes.
    pub fn sat_per_kvb(self) -> u64 {
        self.sat_per_kvb
    }

    /// Whether paying `fee` for a transaction of `vsize` virtual bytes stays
    /// within the limit (compared exactly, without rounding).
    pub fn allows(self, fee: Amount, vsize: u64) -> bool {
        u128::from(fee.to_sat()) * 1000 <= u128::from(self.sat_per_kvb) * u128::from(vsize)
    }
}

impl FromStr for FeeRateLimit {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        let t = text.trim();
        let number = t
            .strip_suffix("sat/vB")
            .or_else(|| t.strip_suffix("sat/vb"))
            .ok_or_else(|| UnitError::NotAFeeRate(t.to_owned()))?
            .trim();
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !digits_ok(whole) || !digits_ok(frac) || frac.len() > 3 {
            return Err(UnitError::NotAFeeRate(t.to_owned()));
        }
        let whole: u64 = whole
            .parse()
            .map_err(|_| UnitError::FeeRateTooLarge(t.to_owned()))?;
        let frac_kvb: u64 = format!("{frac:0<3}").parse().unwrap_or(0);
        whole
            .checked_mul(1000)
            .and_then(|w| w.checked_add(frac_kvb))
            .map(FeeRateLimit::from_sat_per_kvb)
            .ok_or_else(|| UnitError::FeeRateTooLarge(t.to_owned()))
    }
}

impl fmt::Display for FeeRateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.sat_per_kvb / 1000;
        let frac = self.sat_per_kvb % 1000;
        if frac == 0 {
            write!(f, "{whole} sat/vB")
        } else {
            let frac = format!("{frac:03}");
            write!(f, "{whole}.{} sat/vB", frac.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_need_a_unit() {
        assert_eq!(
            parse_amount("5 BTC").unwrap(),
            Amount::from_sat(500_000_000)
        );
        assert_eq!(
            parse_amount("0.5 BTC").unwrap(),
            Amount::from_sat(50_000_000)
        );
        assert_eq!(parse_amount("1500 sat").unwrap(), Amount::from_sat(1500));
        assert_eq!(parse_amount("2 mBTC").unwrap(), Amount::from_sat(200_000));
        assert_eq!(parse_amount("5"), Err(UnitError::NoUnit("5".into())));
        assert_eq!(
            parse_amount("5 ETH"),
            Err(UnitError::UnknownUnit {
                text: "5 ETH".into(),
                unit: "ETH".into()
            })
        );
        assert!(matches!(
            parse_amount("-5 BTC"),
            Err(UnitError::NotAnAmount { .. })
        ));
        assert!(matches!(
            parse_amount("0.000000001 BTC"),
            Err(UnitError::NotAnAmount { .. })
        ));
    }

    #[test]
    fn fee_rates_are_exact() {
        let r: FeeRateLimit = "12.5 sat/vB".parse().unwrap();
        assert_eq!(r.sat_per_kvb(), 12_500);
        assert_eq!(r.to_string(), "12.5 sat/vB");
        assert_eq!(
            "200 sat/vB".parse::<FeeRateLimit>().unwrap().to_string(),
            "200 sat/vB"
        );
        assert!("200".parse::<FeeRateLimit>().is_err());
        assert!("1.2345 sat/vB".parse::<FeeRateLimit>().is_err());
        assert!("abc sat/vB".parse::<FeeRateLimit>().is_err());
        // 1000 sat for 100 vB is exactly 10 sat/vB.
        let ten: FeeRateLimit = "10 sat/vB".parse().unwrap();
        assert!(ten.allows(Amount::from_sat(1000), 100));
        assert!(!ten.allows(Amount::from_sat(1001), 100));
    }

    proptest! {
        #[test]
        fn amount_text_round_trips(sat in 0u64..=21_000_000 * 100_000_000) {
            let a = Amount::from_sat(sat);
            prop_assert_eq!(parse_amount(&format_amount(a)).unwrap(), a);
        }

        #[test]
        fn fee_rate_text_round_trips(kvb in 0u64..10_000_000) {
            let r = FeeRateLimit::from_sat_per_kvb(kvb);
            prop_assert_eq!(r.to_string().parse::<FeeRateLimit>().unwrap(), r);
        }

        #[test]
        fn parsers_never_panic(s in "\\PC*") {
            let _ = parse_amount(&s);
            let _ = s.parse::<FeeRateLimit>();
        }
    }
}

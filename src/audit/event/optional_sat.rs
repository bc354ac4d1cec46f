//! An optional amount as an optional number of satoshis. rust-bitcoin's
//! `as_sat::opt` cannot read a `null` inside an internally tagged enum (serde
//! hands it over as a unit), so the `Option` is read by serde itself.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount that is a whole number of satoshis.
pub trait Sats: Copy {
    /// The number as written.
    type Number: Serialize + for<'de> Deserialize<'de>;
    /// To the number.
    fn to_number(self) -> Self::Number;
    /// From the number.
    fn from_number(n: Self::Number) -> Self;
}

impl Sats for bitcoin::Amount {
    type Number = u64;
    fn to_number(self) -> u64 {
        self.to_sat()
    }
    fn from_number(n: u64) -> Self {
        bitcoin::Amount::from_sat(n)
    }
}

impl Sats for bitcoin::SignedAmount {
    type Number = i64;
    fn to_number(self) -> i64 {
        self.to_sat()
    }
    fn from_number(n: i64) -> Self {
        bitcoin::SignedAmount::from_sat(n)
    }
}

pub fn serialize<A: Sats, S: Serializer>(v: &Option<A>, s: S) -> Result<S::Ok, S::Error> {
    v.map(A::to_number).serialize(s)
}

pub fn deserialize<'de, A: Sats, D: Deserializer<'de>>(d: D) -> Result<Option<A>, D::Error> {
    Ok(Option::<A::Number>::deserialize(d)?.map(A::from_number))
}

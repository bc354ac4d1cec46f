//! The PSBT key-value layer, read strictly, and BIP-370 (v2) ↔ v0 conversion.
//!
//! rust-bitcoin 0.32 reads only v0 and is lenient in places a signer must not
//! be. So every PSBT first goes through this parser, which refuses duplicate
//! keys, map counts that differ from the transaction, oversize fields,
//! non-minimal sizes and trailing bytes. [`super::v2`] converts BIP-370 maps to
//! v0 for review and signing; [`RawPsbt::with_changes`] writes back the
//! original maps plus only the new fields, so nothing the reviewer did not see
//! can change. [`split`] hands a large PSBT to rust-bitcoin in runs of
//! inputs, one per core.

mod checks;
mod split;
mod write_back;

pub(crate) use split::deserialize;

use std::collections::HashSet;

use bitcoin::consensus::Decodable;
use bitcoin::Transaction;

use super::error::PsbtError;

/// `psbt` followed by 0xff.
pub(crate) const MAGIC: &[u8; 5] = b"psbt\xff";
/// Longest key: BIP-32 keys are 79 bytes; approvals name an approver (≤ 64).
const MAX_KEY_LEN: u64 = 1_024;
/// Longest value: a full previous transaction can reach the 4 MB block weight.
const MAX_VALUE_LEN: u64 = 4_000_000;
/// No real transaction has more inputs or outputs than fit into a block.
const MAX_MAPS: u64 = 100_000;

// Field types this module needs to know (BIP-174, BIP-370).
pub(super) const GLOBAL_UNSIGNED_TX: u8 = 0x00;
pub(super) const GLOBAL_TX_VERSION: u8 = 0x02;
pub(super) const GLOBAL_FALLBACK_LOCKTIME: u8 = 0x03;
pub(super) const GLOBAL_INPUT_COUNT: u8 = 0x04;
pub(super) const GLOBAL_OUTPUT_COUNT: u8 = 0x05;
pub(super) const GLOBAL_TX_MODIFIABLE: u8 = 0x06;
pub(super) const GLOBAL_VERSION: u8 = 0xFB;
pub(super) const IN_PARTIAL_SIG: u8 = 0x02;
pub(super) const IN_TAP_SCRIPT_SIG: u8 = 0x14;
pub(super) const IN_PREVIOUS_TXID: u8 = 0x0e;
pub(super) const IN_OUTPUT_INDEX: u8 = 0x0f;
pub(super) const IN_SEQUENCE: u8 = 0x10;
pub(super) const IN_REQUIRED_TIME_LOCKTIME: u8 = 0x11;
pub(super) const IN_REQUIRED_HEIGHT_LOCKTIME: u8 = 0x12;
pub(super) const OUT_AMOUNT: u8 = 0x03;
pub(super) const OUT_SCRIPT: u8 = 0x04;

/// One key-value pair; `key` starts with the key type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pair {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

/// The pairs of one map, in file order, keys unique.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawMap(pub Vec<Pair>);

impl RawMap {
    pub(super) fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.value.as_slice())
    }
    pub(super) fn has_type(&self, t: u8) -> bool {
        self.0.iter().any(|p| p.key.first() == Some(&t))
    }
    pub(super) fn without_types(&self, types: &[u8]) -> RawMap {
        RawMap(
            self.0
                .iter()
                .filter(|p| !p.key.first().is_some_and(|t| types.contains(t)))
                .cloned()
                .collect(),
        )
    }
}

/// A whole PSBT at the key-value level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawPsbt {
    pub version: u32,
    pub global: RawMap,
    pub inputs: Vec<RawMap>,
    pub outputs: Vec<RawMap>,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], PsbtError> {
        let left = (self.bytes.len() - self.pos) as u64;
        if n > left {
            return Err(PsbtError::Truncated(format!(
                "{what} needs {n} bytes, {left} left"
            )));
        }
        let out = &self.bytes[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(out)
    }

    /// Bitcoin's CompactSize, minimal encodings only.
    fn compact_size(&mut self, what: &str) -> Result<u64, PsbtError> {
        let first = self.take(1, what)?[0];
        let (value, min) = match first {
            0xfd => (le(self.take(2, what)?), 0xfd),
            0xfe => (le(self.take(4, what)?), 0x1_0000),
            0xff => (le(self.take(8, what)?), 0x1_0000_0000),
            n => return Ok(n.into()),
        };
        if value < min {
            return Err(PsbtError::Malformed(format!(
                "non-minimal size encoding in {what}"
            )));
        }
        Ok(value)
    }
}

fn le(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

fn read_map(c: &mut Cursor<'_>, name: &str) -> Result<RawMap, PsbtError> {
    let mut pairs = Vec::new();
    let mut seen = HashSet::new();
    loop {
        let key_len = c.compact_size(name)?;
        if key_len == 0 {
            return Ok(RawMap(pairs));
        }
        if key_len > MAX_KEY_LEN {
            return Err(oversize(name, "key", key_len, MAX_KEY_LEN));
        }
        let key = c.take(key_len, name)?.to_vec();
        let value_len = c.compact_size(name)?;
        if value_len > MAX_VALUE_LEN {
            return Err(oversize(name, "value", value_len, MAX_VALUE_LEN));
        }
        let value = c.take(value_len, name)?.to_vec();
        if !seen.insert(key.clone()) {
            return Err(PsbtError::DuplicateKey {
                map: name.to_owned(),
                key: hex(&key),
            });
        }
        pairs.push(Pair { key, value });
    }
}

fn oversize(map: &str, what: &'static str, len: u64, limit: u64) -> PsbtError {
    PsbtError::Oversize {
        map: map.to_owned(),
        what,
        len,
        limit,
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn compact_value(map: &RawMap, t: u8, what: &str) -> Result<u64, PsbtError> {
    let v = map
        .get(&[t])
        .ok_or_else(|| PsbtError::Malformed(format!("PSBT v2 without {what}")))?;
    let mut c = Cursor { bytes: v, pos: 0 };
    let n = c.compact_size(what)?;
    if c.pos != v.len() {
        return Err(PsbtError::Malformed(format!("{what} has trailing bytes")));
    }
    Ok(n)
}

pub(super) fn fixed<const N: usize>(
    map: &RawMap,
    t: u8,
    what: &str,
) -> Result<Option<[u8; N]>, PsbtError> {
    map.get(&[t])
        .map(|v| {
            v.try_into()
                .map_err(|_| PsbtError::Malformed(format!("{what} must be {N} bytes")))
        })
        .transpose()
}

impl RawPsbt {
    /// Parses binary PSBT data strictly.
    pub fn parse(bytes: &[u8]) -> Result<RawPsbt, PsbtError> {
        if !bytes.starts_with(MAGIC) {
            return Err(PsbtError::NotPsbt);
        }
        let mut c = Cursor { bytes, pos: 5 };
        let global = read_map(&mut c, "global map")?;
        let version = match fixed::<4>(&global, GLOBAL_VERSION, "PSBT_GLOBAL_VERSION")? {
            Some(v) => u32::from_le_bytes(v),
            None => 0,
        };
        if global
            .0
            .iter()
            .any(|p| p.key.first() == Some(&GLOBAL_VERSION) && p.key.len() != 1)
        {
            return Err(PsbtError::Malformed(
                "PSBT_GLOBAL_VERSION with key data".into(),
            ));
        }
        let (n_in, n_out) = match version {
            0 => {
                let tx = unsigned_tx_of(&global)?;
                for t in [
                    GLOBAL_TX_VERSION,
                    GLOBAL_FALLBACK_LOCKTIME,
                    GLOBAL_INPUT_COUNT,
                    GLOBAL_OUTPUT_COUNT,
                    GLOBAL_TX_MODIFIABLE,
                ] {
                    if global.has_type(t) {
                        return Err(PsbtError::Malformed(format!(
                            "a version 0 PSBT carries the version 2 global field 0x{t:02x}"
                        )));
                    }
                }
                (tx.input.len() as u64, tx.output.len() as u64)
            }
            2 => {
                if global.has_type(GLOBAL_UNSIGNED_TX) {
                    return Err(PsbtError::Malformed(
                        "a version 2 PSBT carries an unsigned transaction".into(),
                    ));
                }
                (
                    compact_value(&global, GLOBAL_INPUT_COUNT, "PSBT_GLOBAL_INPUT_COUNT")?,
                    compact_value(&global, GLOBAL_OUTPUT_COUNT, "PSBT_GLOBAL_OUTPUT_COUNT")?,
                )
            }
            v => return Err(PsbtError::UnsupportedVersion(v)),
        };
        if n_in > MAX_MAPS || n_out > MAX_MAPS {
            return Err(PsbtError::Malformed(format!(
                "{n_in} inputs and {n_out} outputs is more than a transaction can hold"
            )));
        }
        let mut inputs = Vec::with_capacity(n_in as usize);
        for i in 0..n_in {
            inputs.push(read_map(&mut c, &format!("map of input {i}"))?);
        }
        let mut outputs = Vec::with_capacity(n_out as usize);
        for i in 0..n_out {
            outputs.push(read_map(&mut c, &format!("map of output {i}"))?);
        }
        if c.pos != bytes.len() {
            return Err(PsbtError::TrailingBytes(bytes.len() - c.pos));
        }
        let raw = RawPsbt {
            version,
            global,
            inputs,
            outputs,
        };
        raw.check_version_fields()?;
        raw.check_musig2_fields()?;
        Ok(raw)
    }
}

fn unsigned_tx_of(global: &RawMap) -> Result<Transaction, PsbtError> {
    if global
        .0
        .iter()
        .any(|p| p.key.first() == Some(&GLOBAL_UNSIGNED_TX) && p.key.len() != 1)
    {
        return Err(PsbtError::Malformed(
            "unsigned transaction key with key data".into(),
        ));
    }
    let value = global.get(&[GLOBAL_UNSIGNED_TX]).ok_or_else(|| {
        PsbtError::Malformed("version 0 PSBT without unsigned transaction".into())
    })?;
    // Field by field, not `deserialize::<Transaction>`: an unsigned
    // transaction has no witnesses, and without inputs its input count (0)
    // would be taken for the segwit marker. BIP-174 allows a PSBT without
    // inputs yet; rust-bitcoin and Bitcoin Core read it the same way.
    let malformed = |e: bitcoin::consensus::encode::Error| {
        PsbtError::Malformed(format!("unsigned transaction: {e}"))
    };
    let mut r = value;
    let tx = Transaction {
        version: Decodable::consensus_decode(&mut r).map_err(malformed)?,
        input: Decodable::consensus_decode(&mut r).map_err(malformed)?,
        output: Decodable::consensus_decode(&mut r).map_err(malformed)?,
        lock_time: Decodable::consensus_decode(&mut r).map_err(malformed)?,
    };
    if !r.is_empty() {
        return Err(PsbtError::Malformed(format!(
            "unsigned transaction has {} bytes after its lock time",
            r.len()
        )));
    }
    Ok(tx)
}

#[cfg(test)]
pub(super) mod tests;

//! Reading a PSBT once, from a file or standard input, as base64 or binary, v0
//! or v2; and writing it back in the same version and encoding with only the
//! fields custodia added.

use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use bitcoin::base64::engine::general_purpose::STANDARD;
use bitcoin::base64::Engine;
use bitcoin::Psbt;

use super::error::PsbtError;
use super::fields::is_compact;
use super::raw::{self, RawPsbt, MAGIC};
use super::signature_slot::SignatureSlot;

/// Largest PSBT file read: far above a 10,000-input consolidation with full
/// previous transactions, far below what would exhaust an offline laptop.
pub const MAX_PSBT_BYTES: u64 = 256 * 1024 * 1024;

/// How the PSBT was encoded on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Base64 text (Bitcoin Core's RPCs, most wallets).
    Base64,
    /// Raw BIP-174 bytes (`.psbt` files of hardware wallets).
    Binary,
}

/// A text that names no PSBT encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown PSBT format `{0}`; use base64 or binary")]
pub struct UnknownEncoding(pub String);

impl std::str::FromStr for Encoding {
    type Err = UnknownEncoding;
    fn from_str(s: &str) -> Result<Self, UnknownEncoding> {
        match s {
            "base64" => Ok(Encoding::Base64),
            "binary" => Ok(Encoding::Binary),
            other => Err(UnknownEncoding(other.to_owned())),
        }
    }
}

/// BIP-174 (v0) or BIP-370 (v2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum PsbtVersion {
    /// Version 0, with a global unsigned transaction.
    V0,
    /// Version 2, with per-input and per-output transaction fields.
    V2,
}

/// A PSBT as read: the parsed v0 form that is reviewed and signed, and what is
/// needed to write it back exactly as it came, plus additions.
#[derive(Debug, Clone)]
pub struct PsbtDocument {
    psbt: Psbt,
    original: RawPsbt,
    /// `psbt` as rust-bitcoin writes it: what a PSBT updated from `psbt` is
    /// compared with field by field when it is written back. Not the bytes
    /// read: rust-bitcoin writes some fields its own way (a taproot tree in
    /// another order, no explicit version 0), which is not a change. Made
    /// when first written back: a review alone never needs it.
    reviewed: OnceLock<RawPsbt>,
    encoding: Encoding,
}

impl PsbtDocument {
    /// Reads base64 text or binary PSBT data. A compact PSBT is refused:
    /// it must be re-filled against the registered policy first
    /// ([`crate::psbt::compact::refill`]).
    pub fn from_bytes(data: &[u8]) -> Result<Self, PsbtError> {
        let doc = decode(data)?;
        if is_compact(&doc.psbt) {
            return Err(PsbtError::Compact);
        }
        Ok(doc)
    }

    /// Reads a PSBT from `path`, or from standard input if `path` is `-`.
    pub fn read(path: &Path) -> Result<Self, PsbtError> {
        Self::from_bytes(&read_bytes(path)?)
    }

    /// The PSBT in v0 form: what the review looks at and the signer signs.
    pub fn psbt(&self) -> &Psbt {
        &self.psbt
    }

    /// The version it came in.
    pub fn version(&self) -> PsbtVersion {
        match self.original.version {
            2 => PsbtVersion::V2,
            _ => PsbtVersion::V0,
        }
    }

    /// The encoding it came in.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// `updated` (this PSBT after signing or approving) in the version this
    /// document came in: the original fields untouched, in their original
    /// order, plus the fields `updated` added. Changing or removing a field
    /// is refused, so a bug cannot alter what was reviewed.
    pub fn write_back(&self, updated: &Psbt) -> Result<Vec<u8>, PsbtError> {
        self.write_back_replacing(updated, &[])
    }

    /// [`Self::psbt`] as rust-bitcoin writes it, parsed.
    fn reviewed(&self) -> Result<&RawPsbt, PsbtError> {
        if let Some(reviewed) = self.reviewed.get() {
            return Ok(reviewed);
        }
        let reviewed = RawPsbt::parse(&self.psbt.serialize())?;
        Ok(self.reviewed.get_or_init(|| reviewed))
    }

    /// [`write_back`](Self::write_back), except that the signature fields in
    /// `replaced` may hold new values (a signer replaced signatures for its
    /// own keys that did not verify). Every other change is still refused.
    pub fn write_back_replacing(
        &self,
        updated: &Psbt,
        replaced: &[SignatureSlot],
    ) -> Result<Vec<u8>, PsbtError> {
        // The two 5 MB round trips of a 10,000-input PSBT, one per core.
        let (reviewed, after) =
            rayon::join(|| self.reviewed(), || RawPsbt::parse(&updated.serialize()));
        let replaced: Vec<(usize, Vec<u8>)> = replaced.iter().map(|s| s.raw_key()).collect();
        Ok(self
            .original
            .with_changes(reviewed?, &after?, &replaced)?
            .serialize())
    }

    /// [`write_back`](Self::write_back), encoded as base64 text (with a final
    /// newline) or binary.
    pub fn encode(&self, updated: &Psbt, encoding: Encoding) -> Result<Vec<u8>, PsbtError> {
        self.encode_replacing(updated, encoding, &[])
    }

    /// [`write_back_replacing`](Self::write_back_replacing), encoded as
    /// [`encode`](Self::encode) does.
    pub fn encode_replacing(
        &self,
        updated: &Psbt,
        encoding: Encoding,
        replaced: &[SignatureSlot],
    ) -> Result<Vec<u8>, PsbtError> {
        let bytes = self.write_back_replacing(updated, replaced)?;
        Ok(match encoding {
            Encoding::Binary => bytes,
            Encoding::Base64 => {
                let mut text = STANDARD.encode(bytes).into_bytes();
                text.push(b'\n');
                text
            }
        })
    }
}

/// The bytes of `path`, or of standard input if `path` is `-`, refused
/// beyond [`MAX_PSBT_BYTES`] without reading further.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, PsbtError> {
    let mut data = Vec::new();
    let (what, result) = if path == Path::new("-") {
        let stdin = std::io::stdin();
        let r = stdin.lock().take(MAX_PSBT_BYTES + 1).read_to_end(&mut data);
        ("standard input".to_owned(), r)
    } else {
        let r = std::fs::File::open(path)
            .and_then(|f| f.take(MAX_PSBT_BYTES + 1).read_to_end(&mut data));
        (path.display().to_string(), r)
    };
    result.map_err(|source| PsbtError::Read { what, source })?;
    if data.len() as u64 > MAX_PSBT_BYTES {
        return Err(PsbtError::Oversize {
            map: "file".into(),
            what: "PSBT",
            len: data.len() as u64,
            limit: MAX_PSBT_BYTES,
        });
    }
    Ok(data)
}

/// Parses base64 text or binary PSBT data strictly, compact or not.
fn decode(data: &[u8]) -> Result<PsbtDocument, PsbtError> {
    let (bytes, encoding) = if data.starts_with(MAGIC) {
        (data.to_vec(), Encoding::Binary)
    } else {
        // Line breaks and spaces are layout (mail and some tools wrap
        // base64 at 64 or 76 columns), never part of the data.
        let text: String = std::str::from_utf8(data)
            .map_err(|_| PsbtError::NotPsbt)?
            .split_ascii_whitespace()
            .collect();
        if text.is_empty() {
            return Err(PsbtError::NotPsbt);
        }
        let bytes = STANDARD.decode(text).map_err(PsbtError::Base64)?;
        if !bytes.starts_with(MAGIC) {
            return Err(PsbtError::NotPsbt);
        }
        (bytes, Encoding::Base64)
    };

    let original = RawPsbt::parse(&bytes)?;
    let psbt = match original.version {
        0 => raw::deserialize(&original),
        _ => raw::deserialize(&original.to_v0()?),
    }
    .map_err(PsbtError::Parse)?;
    check_previous_transactions(&psbt)?;
    Ok(PsbtDocument {
        psbt,
        original,
        reviewed: OnceLock::new(),
        encoding,
    })
}

/// BIP-174: a full previous transaction (`non_witness_utxo`) is the one the
/// input's outpoint names and has the output it spends. rust-bitcoin reads
/// the field without looking; the review would find the mismatch too, but a
/// PSBT that contradicts itself is not read at all, as Bitcoin Core does.
fn check_previous_transactions(psbt: &Psbt) -> Result<(), PsbtError> {
    for (input, (txin, psbt_in)) in psbt.unsigned_tx.input.iter().zip(&psbt.inputs).enumerate() {
        let Some(prev) = &psbt_in.non_witness_utxo else {
            continue;
        };
        let outpoint = txin.previous_output;
        if prev.compute_txid() != outpoint.txid {
            return Err(PsbtError::PreviousTransaction {
                input,
                reason: "has another txid than the outpoint",
            });
        }
        if outpoint.vout as usize >= prev.output.len() {
            return Err(PsbtError::PreviousTransaction {
                input,
                reason: "has no output at the outpoint's index",
            });
        }
    }
    Ok(())
}

/// Parses PSBT data as strictly as [`PsbtDocument::from_bytes`], compact or
/// not, for re-filling a compact PSBT.
pub(crate) fn parse_any(data: &[u8]) -> Result<Psbt, PsbtError> {
    Ok(decode(data)?.psbt)
}

/// Reads PSBT data as [`PsbtDocument::from_bytes`] does, except that a
/// compact PSBT is read too: for the one reader that re-fills it
/// ([`crate::psbt::compact::Received`]), which parses the data once.
pub(crate) fn decode_any(data: &[u8]) -> Result<PsbtDocument, PsbtError> {
    decode(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_base64_reads() {
        let tx = bitcoin::Transaction {
            version: bitcoin::transaction::Version::TWO,
            lock_time: bitcoin::absolute::LockTime::ZERO,
            input: vec![bitcoin::TxIn::default()],
            output: vec![bitcoin::TxOut::NULL],
        };
        let psbt = Psbt::from_unsigned_tx(tx).unwrap().to_string();
        let wrapped: String = psbt
            .as_bytes()
            .chunks(8)
            .map(|c| format!("{}\r\n", std::str::from_utf8(c).unwrap()))
            .collect();
        let doc = PsbtDocument::from_bytes(wrapped.as_bytes()).unwrap();
        assert_eq!(doc.psbt().to_string(), psbt);
        assert_eq!(doc.encoding(), Encoding::Base64);
    }

    fn one_input_spending(prev: &bitcoin::Transaction, vout: u32) -> Psbt {
        let tx = bitcoin::Transaction {
            version: bitcoin::transaction::Version::TWO,
            lock_time: bitcoin::absolute::LockTime::ZERO,
            input: vec![bitcoin::TxIn {
                previous_output: bitcoin::OutPoint::new(prev.compute_txid(), vout),
                ..bitcoin::TxIn::default()
            }],
            output: vec![bitcoin::TxOut::NULL],
        };
        Psbt::from_unsigned_tx(tx).unwrap()
    }

    #[test]
    fn a_previous_transaction_must_be_the_one_spent() {
        let prev = bitcoin::Transaction {
            version: bitcoin::transaction::Version::TWO,
            lock_time: bitcoin::absolute::LockTime::ZERO,
            input: vec![bitcoin::TxIn::default()],
            output: vec![bitcoin::TxOut::NULL],
        };
        let mut psbt = one_input_spending(&prev, 0);
        psbt.inputs[0].non_witness_utxo = Some(prev.clone());
        assert!(PsbtDocument::from_bytes(&psbt.serialize()).is_ok());

        let mut other = prev.clone();
        other.lock_time = bitcoin::absolute::LockTime::from_consensus(1);
        psbt.inputs[0].non_witness_utxo = Some(other);
        assert!(matches!(
            PsbtDocument::from_bytes(&psbt.serialize()),
            Err(PsbtError::PreviousTransaction { input: 0, .. })
        ));

        let mut beyond = one_input_spending(&prev, 1);
        beyond.inputs[0].non_witness_utxo = Some(prev);
        assert!(matches!(
            PsbtDocument::from_bytes(&beyond.serialize()),
            Err(PsbtError::PreviousTransaction { input: 0, .. })
        ));
    }

    #[test]
    fn fields_rust_bitcoin_writes_its_own_way_are_not_changes() {
        // An explicit PSBT_GLOBAL_VERSION 0, which rust-bitcoin does not
        // write: an unchanged PSBT still writes back as it came, and a
        // signature is still only an addition.
        let tx = bitcoin::Transaction {
            version: bitcoin::transaction::Version::TWO,
            lock_time: bitcoin::absolute::LockTime::ZERO,
            input: vec![bitcoin::TxIn::default()],
            output: vec![bitcoin::TxOut::NULL],
        };
        let plain = Psbt::from_unsigned_tx(tx).unwrap().serialize();
        let mut raw = RawPsbt::parse(&plain).unwrap();
        raw.global.0.push(super::super::raw::Pair {
            key: vec![0xfb],
            value: vec![0, 0, 0, 0],
        });
        let bytes = raw.serialize();
        let doc = PsbtDocument::from_bytes(&bytes).unwrap();
        assert_eq!(doc.write_back(doc.psbt()).unwrap(), bytes);
        let mut signed = doc.psbt().clone();
        signed.inputs[0].proprietary.insert(
            bitcoin::psbt::raw::ProprietaryKey {
                prefix: b"test".to_vec(),
                subtype: 0,
                key: vec![],
            },
            vec![1],
        );
        let written = doc.write_back(&signed).unwrap();
        assert_eq!(&written[..bytes.len() - 2], &bytes[..bytes.len() - 2]);
        assert_eq!(PsbtDocument::from_bytes(&written).unwrap().psbt(), &signed);
    }

    #[test]
    fn garbage_and_truncation_are_errors() {
        assert!(matches!(
            PsbtDocument::from_bytes(b""),
            Err(PsbtError::NotPsbt)
        ));
        assert!(matches!(
            PsbtDocument::from_bytes(b"hello world"),
            Err(PsbtError::Base64(_))
        ));
        assert!(matches!(
            PsbtDocument::from_bytes(b"aGVsbG8="),
            Err(PsbtError::NotPsbt)
        ));
        assert!(matches!(
            PsbtDocument::from_bytes(b"psbt\xff\x01"),
            Err(PsbtError::Truncated(_))
        ));
    }
}

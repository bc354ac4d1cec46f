//! The compact marker: one proprietary global field (`custodia`, subtype
//! 0x03) that says "compact, re-fill against policy X" and holds one hint per
//! input and per output. Its bytes are specified in `docs/qr-compact.md`.

use bitcoin::consensus::encode::{Decodable, Encodable, VarInt};
use bitcoin::Psbt;

use super::error::{CompactError, MarkerFault, Place};
use crate::policy::{Chain, PolicyId, Tier};
use crate::psbt::fields::{compact_marker_key, PREFIX, SUBTYPE_COMPACT};

/// The only format this release writes and reads.
const FORMAT: u8 = 1;
/// The hint of an input or output left as it was.
const NO_HINT: u8 = 0x00;

/// Where the policy re-derives a stripped input or output: which wallet,
/// which chain, which index. The index is kept as read (up to 64 bits) so
/// that an absurd one is refused against the policy's range, not truncated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hint {
    pub tier: Tier,
    pub chain: Chain,
    pub index: u64,
}

impl Hint {
    /// High nibble the wallet (1 cold, 2 hot), low nibble the chain (0
    /// receive, 1 change): `0x10`, `0x11`, `0x20`, `0x21`.
    fn code(self) -> u8 {
        let tier = match self.tier {
            Tier::Cold => 0x10,
            Tier::Hot => 0x20,
        };
        tier | self.chain.index() as u8
    }

    fn from_code(code: u8, index: u64, place: Place) -> Result<Hint, CompactError> {
        let tier = match code >> 4 {
            1 => Tier::Cold,
            2 => Tier::Hot,
            _ => return Err(CompactError::UnknownWallet { place, code }),
        };
        let chain = Chain::from_main_step(u32::from(code & 0x0f))
            .ok_or(CompactError::UnknownWallet { place, code })?;
        Ok(Hint { tier, chain, index })
    }
}

/// The marker's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Marker {
    pub policy_id: PolicyId,
    pub inputs: Vec<Option<Hint>>,
    pub outputs: Vec<Option<Hint>>,
}

fn put_size(out: &mut Vec<u8>, n: u64) {
    VarInt(n)
        .consensus_encode(out)
        .expect("writing to a Vec does not fail");
}

impl Marker {
    /// The marker's value bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![FORMAT];
        out.extend(self.policy_id.to_bytes());
        for hints in [&self.inputs, &self.outputs] {
            put_size(&mut out, hints.len() as u64);
            for hint in hints {
                match hint {
                    None => out.push(NO_HINT),
                    Some(h) => {
                        out.push(h.code());
                        put_size(&mut out, h.index);
                    }
                }
            }
        }
        out
    }

    /// Writes the marker into the PSBT's global map.
    pub fn insert_into(&self, psbt: &mut Psbt) {
        psbt.proprietary.insert(compact_marker_key(), self.encode());
    }

    /// Reads the marker of a compact PSBT, checking it holds one hint per
    /// input and output of the transaction.
    pub fn read(psbt: &Psbt) -> Result<Marker, CompactError> {
        let mut found = None;
        for (key, value) in &psbt.proprietary {
            if key.prefix != PREFIX || key.subtype != SUBTYPE_COMPACT {
                continue;
            }
            if !key.key.is_empty() {
                return Err(MarkerFault::KeyData.into());
            }
            found = Some(value);
        }
        let value = found.ok_or(CompactError::NotCompact)?;
        let marker = Marker::decode(value)?;
        let inputs = psbt.unsigned_tx.input.len();
        if marker.inputs.len() != inputs {
            return Err(MarkerFault::InputCount {
                hints: marker.inputs.len() as u64,
                inputs,
            }
            .into());
        }
        let outputs = psbt.unsigned_tx.output.len();
        if marker.outputs.len() != outputs {
            return Err(MarkerFault::OutputCount {
                hints: marker.outputs.len() as u64,
                outputs,
            }
            .into());
        }
        Ok(marker)
    }

    fn decode(mut bytes: &[u8]) -> Result<Marker, CompactError> {
        let r = &mut bytes;
        let format = byte(r)?;
        if format != FORMAT {
            return Err(MarkerFault::UnknownFormat(format).into());
        }
        let id: [u8; 32] = take(r, 32)?.try_into().expect("32 bytes taken");
        let inputs = hints(r, Place::Input)?;
        let outputs = hints(r, Place::Output)?;
        if !r.is_empty() {
            return Err(MarkerFault::TrailingBytes(r.len()).into());
        }
        Ok(Marker {
            policy_id: PolicyId::from_bytes(id),
            inputs,
            outputs,
        })
    }
}

fn take<'a>(r: &mut &'a [u8], n: usize) -> Result<&'a [u8], MarkerFault> {
    if r.len() < n {
        return Err(MarkerFault::Truncated);
    }
    let (head, tail) = r.split_at(n);
    *r = tail;
    Ok(head)
}

fn byte(r: &mut &[u8]) -> Result<u8, MarkerFault> {
    Ok(take(r, 1)?[0])
}

fn size(r: &mut &[u8]) -> Result<u64, MarkerFault> {
    match VarInt::consensus_decode(r) {
        Ok(VarInt(n)) => Ok(n),
        Err(bitcoin::consensus::encode::Error::NonMinimalVarInt) => {
            Err(MarkerFault::NonMinimalSize)
        }
        Err(_) => Err(MarkerFault::Truncated),
    }
}

fn hints(r: &mut &[u8], place: fn(usize) -> Place) -> Result<Vec<Option<Hint>>, CompactError> {
    let n = size(r)?;
    // Every hint takes at least one byte: a count beyond what is left is a
    // lie, and must not size an allocation.
    if n > r.len() as u64 {
        return Err(MarkerFault::Truncated.into());
    }
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n as usize {
        let code = byte(r)?;
        if code == NO_HINT {
            out.push(None);
            continue;
        }
        let index = size(r)?;
        out.push(Some(Hint::from_code(code, index, place(i))?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker() -> Marker {
        let hint = |tier, chain, index| Some(Hint { tier, chain, index });
        Marker {
            policy_id: PolicyId::from_bytes([9; 32]),
            inputs: vec![
                hint(Tier::Cold, Chain::Receive, 3),
                None,
                hint(Tier::Hot, Chain::Change, 70_000),
            ],
            outputs: vec![hint(Tier::Cold, Chain::Change, 0), None],
        }
    }

    #[test]
    fn encoding_is_the_documented_one_and_round_trips() {
        let bytes = marker().encode();
        let mut want = vec![1];
        want.extend([9; 32]);
        want.extend([3, 0x10, 3, 0x00, 0x21, 0xfe, 0x70, 0x11, 0x01, 0x00]);
        want.extend([2, 0x11, 0, 0x00]);
        assert_eq!(bytes, want);
        assert_eq!(Marker::decode(&bytes).unwrap(), marker());
    }

    #[test]
    fn damaged_markers_are_typed_faults() {
        let bytes = marker().encode();
        let fault = |b: &[u8]| match Marker::decode(b) {
            Err(CompactError::Marker(f)) => f,
            other => panic!("{other:?}"),
        };
        assert_eq!(fault(&bytes[..20]), MarkerFault::Truncated);
        assert_eq!(
            fault(&[bytes.as_slice(), &[0]].concat()),
            MarkerFault::TrailingBytes(1)
        );
        let mut other_format = bytes.clone();
        other_format[0] = 2;
        assert_eq!(fault(&other_format), MarkerFault::UnknownFormat(2));
        // Input count 3 written as 0xfd 0x03 0x00.
        let mut long = bytes[..33].to_vec();
        long.extend([0xfd, 3, 0]);
        long.extend(&bytes[34..]);
        assert_eq!(fault(&long), MarkerFault::NonMinimalSize);
        // A count of a billion hints with nothing after it.
        let mut huge = bytes[..33].to_vec();
        huge.extend([0xfe, 0, 0xca, 0x9a, 0x3b]);
        assert_eq!(fault(&huge), MarkerFault::Truncated);
    }

    #[test]
    fn unknown_wallet_codes_are_refused() {
        for code in [0x01, 0x12, 0x30, 0xff] {
            let mut bytes = marker().encode();
            bytes[34] = code;
            assert!(matches!(
                Marker::decode(&bytes),
                Err(CompactError::UnknownWallet { place: Place::Input(0), code: c }) if c == code
            ));
        }
    }
}

//! The compact marker: one proprietary global field (`custodia`, subtype
//! 0x03) that says "compact, re-fill against policy X" and holds one hint per
//! input and per output. Its bytes are specified in `docs/qr-compact.md`.

use bitcoin::consensus::encode::{Decodable, Encodable, VarInt};
use bitcoin::{Amount, Psbt};

use super::error::{CompactError, MarkerFault, Place};
use crate::policy::{Chain, PolicyId, Tier};
use crate::psbt::fields::{compact_marker_key, PREFIX, SUBTYPE_COMPACT};

/// The format this release writes. Format 1 (no previous outputs left
/// out) is still read: compact PSBTs of the previous release stay usable.
const FORMAT: u8 = 2;
/// The first format, which has no previous-output flag.
const FORMAT_1: u8 = 1;
/// The hint of an input or output left as it was.
const NO_HINT: u8 = 0x00;
/// Set in an input's hint code (format 2) when its previous output was left
/// out too: its amount follows the index.
const PREVIOUS_OUTPUT_FLAG: u8 = 0x08;

/// Where the policy re-derives a stripped input or output: which wallet,
/// which chain, which index. The index is kept as read (up to 64 bits) so
/// that an absurd one is refused against the policy's range, not truncated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hint {
    pub tier: Tier,
    pub chain: Chain,
    pub index: u64,
    /// Inputs only: the previous output's amount, when the previous output
    /// (`witness_utxo`) was left out and its script is re-derived at the
    /// hint. Only taproot inputs are stripped so (see `strip`).
    pub amount: Option<Amount>,
}

impl Hint {
    /// High nibble the wallet (1 cold, 2 hot), low nibble the chain (0
    /// receive, 1 change), plus 0x08 when the previous output was left out:
    /// `0x10`, `0x11`, `0x20`, `0x21`, `0x18`, `0x19`, `0x28`, `0x29`.
    fn code(self) -> u8 {
        let tier = match self.tier {
            Tier::Cold => 0x10,
            Tier::Hot => 0x20,
        };
        let flag = match self.amount {
            Some(_) => PREVIOUS_OUTPUT_FLAG,
            None => 0,
        };
        tier | flag | self.chain.index() as u8
    }

    /// The wallet and chain a code names, and whether an amount follows.
    /// The flag is read only where `flag_allowed` (inputs, format 2).
    fn from_code(
        code: u8,
        place: Place,
        flag_allowed: bool,
    ) -> Result<(Tier, Chain, bool), CompactError> {
        let unknown = CompactError::UnknownWallet { place, code };
        let tier = match code >> 4 {
            1 => Tier::Cold,
            2 => Tier::Hot,
            _ => return Err(unknown),
        };
        let flagged = flag_allowed && code & PREVIOUS_OUTPUT_FLAG != 0;
        let step = code & 0x0f & !if flagged { PREVIOUS_OUTPUT_FLAG } else { 0 };
        let chain = Chain::from_main_step(u32::from(step)).ok_or(unknown)?;
        Ok((tier, chain, flagged))
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
                        if let Some(amount) = h.amount {
                            put_size(&mut out, amount.to_sat());
                        }
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
        if format != FORMAT && format != FORMAT_1 {
            return Err(MarkerFault::UnknownFormat(format).into());
        }
        let id: [u8; 32] = take(r, 32)?.try_into().expect("32 bytes taken");
        let inputs = hints(r, Place::Input, format == FORMAT)?;
        let outputs = hints(r, Place::Output, false)?;
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

/// An amount of a previous output: at most the 21 million bitcoin that can
/// ever exist.
fn amount(r: &mut &[u8], place: Place) -> Result<Amount, CompactError> {
    let sat = size(r)?;
    match sat <= Amount::MAX_MONEY.to_sat() {
        true => Ok(Amount::from_sat(sat)),
        false => Err(CompactError::ImpossibleAmount { place, sat }),
    }
}

fn hints(
    r: &mut &[u8],
    place: fn(usize) -> Place,
    flag_allowed: bool,
) -> Result<Vec<Option<Hint>>, CompactError> {
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
        let (tier, chain, flagged) = Hint::from_code(code, place(i), flag_allowed)?;
        let index = size(r)?;
        let amount = match flagged {
            true => Some(amount(r, place(i))?),
            false => None,
        };
        out.push(Some(Hint {
            tier,
            chain,
            index,
            amount,
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker() -> Marker {
        let hint = |tier, chain, index| {
            Some(Hint {
                tier,
                chain,
                index,
                amount: None,
            })
        };
        Marker {
            policy_id: PolicyId::from_bytes([9; 32]),
            inputs: vec![
                hint(Tier::Cold, Chain::Receive, 3),
                None,
                hint(Tier::Hot, Chain::Change, 70_000),
                Some(Hint {
                    tier: Tier::Hot,
                    chain: Chain::Receive,
                    index: 5,
                    amount: Some(Amount::from_sat(1_000_000)),
                }),
            ],
            outputs: vec![hint(Tier::Cold, Chain::Change, 0), None],
        }
    }

    #[test]
    fn encoding_is_the_documented_one_and_round_trips() {
        let bytes = marker().encode();
        let mut want = vec![2];
        want.extend([9; 32]);
        want.extend([4, 0x10, 3, 0x00, 0x21, 0xfe, 0x70, 0x11, 0x01, 0x00]);
        want.extend([0x28, 5, 0xfe, 0x40, 0x42, 0x0f, 0x00]);
        want.extend([2, 0x11, 0, 0x00]);
        assert_eq!(bytes, want);
        assert_eq!(Marker::decode(&bytes).unwrap(), marker());
    }

    #[test]
    fn format_1_is_read_without_previous_output_flags() {
        let mut format_1 = marker();
        format_1.inputs.pop();
        let mut bytes = format_1.encode();
        bytes[0] = 1;
        bytes[33] = 3;
        assert_eq!(Marker::decode(&bytes).unwrap(), format_1);
        // In format 1, 0x28 names no wallet: the flag does not exist there.
        let mut flagged = bytes.clone();
        flagged[34] = 0x18;
        assert!(matches!(
            Marker::decode(&flagged),
            Err(CompactError::UnknownWallet {
                place: Place::Input(0),
                code: 0x18
            })
        ));
    }

    #[test]
    fn outputs_never_carry_an_amount() {
        let mut bytes = marker().encode();
        let first_output = bytes.len() - 3;
        bytes[first_output] = 0x19;
        assert!(matches!(
            Marker::decode(&bytes),
            Err(CompactError::UnknownWallet {
                place: Place::Output(0),
                code: 0x19
            })
        ));
    }

    #[test]
    fn an_amount_beyond_all_bitcoin_is_refused() {
        let mut m = marker();
        m.inputs[3].as_mut().unwrap().amount = Some(Amount::MAX_MONEY);
        assert!(Marker::decode(&m.encode()).is_ok());
        let bytes = m.encode();
        // MAX_MONEY + 1 in the same 9-byte form.
        let at = bytes.len() - 4 - 8;
        let mut more = bytes.clone();
        more[at..at + 8].copy_from_slice(&(Amount::MAX_MONEY.to_sat() + 1).to_le_bytes());
        assert!(matches!(
            Marker::decode(&more),
            Err(CompactError::ImpossibleAmount {
                place: Place::Input(3),
                ..
            })
        ));
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
        other_format[0] = 3;
        assert_eq!(fault(&other_format), MarkerFault::UnknownFormat(3));
        // Input count 4 written as 0xfd 0x04 0x00.
        let mut long = bytes[..33].to_vec();
        long.extend([0xfd, 4, 0]);
        long.extend(&bytes[34..]);
        assert_eq!(fault(&long), MarkerFault::NonMinimalSize);
        // A count of a billion hints with nothing after it.
        let mut huge = bytes[..33].to_vec();
        huge.extend([0xfe, 0, 0xca, 0x9a, 0x3b]);
        assert_eq!(fault(&huge), MarkerFault::Truncated);
    }

    #[test]
    fn unknown_wallet_codes_are_refused() {
        for code in [0x01, 0x12, 0x1a, 0x30, 0xff] {
            let mut bytes = marker().encode();
            bytes[34] = code;
            assert!(matches!(
                Marker::decode(&bytes),
                Err(CompactError::UnknownWallet { place: Place::Input(0), code: c }) if c == code
            ));
        }
    }
}

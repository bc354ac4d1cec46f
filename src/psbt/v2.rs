//! BIP-370 (PSBT v2) to v0: the transaction fields spread over the maps are
//! gathered into the v0 global unsigned transaction, so rust-bitcoin can read
//! it and the review sees one form. Writing back keeps the v2 maps
//! ([`RawPsbt::with_changes`]).

use bitcoin::consensus::encode::serialize;
use bitcoin::hashes::Hash;
use bitcoin::{absolute, transaction, Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn};
use bitcoin::{TxOut, Txid, Witness};

use super::error::PsbtError;
use super::raw::*;

impl RawPsbt {
    /// The same PSBT as version 0, for rust-bitcoin to read.
    pub fn to_v0(&self) -> Result<RawPsbt, PsbtError> {
        if self.version == 0 {
            return Ok(self.clone());
        }
        let tx = self.v2_unsigned_tx()?;
        let mut global = self.global.without_types(&[
            GLOBAL_TX_VERSION,
            GLOBAL_FALLBACK_LOCKTIME,
            GLOBAL_INPUT_COUNT,
            GLOBAL_OUTPUT_COUNT,
            GLOBAL_TX_MODIFIABLE,
            GLOBAL_VERSION,
        ]);
        global.0.insert(
            0,
            Pair {
                key: vec![GLOBAL_UNSIGNED_TX],
                value: serialize(&tx),
            },
        );
        Ok(RawPsbt {
            version: 0,
            global,
            inputs: self
                .inputs
                .iter()
                .map(|m| m.without_types(&[IN_PREVIOUS_TXID, IN_OUTPUT_INDEX, IN_SEQUENCE]))
                .collect(),
            outputs: self
                .outputs
                .iter()
                .map(|m| m.without_types(&[OUT_AMOUNT, OUT_SCRIPT]))
                .collect(),
        })
    }

    fn v2_unsigned_tx(&self) -> Result<Transaction, PsbtError> {
        let version = fixed::<4>(&self.global, GLOBAL_TX_VERSION, "PSBT_GLOBAL_TX_VERSION")?
            .ok_or_else(|| PsbtError::Malformed("PSBT v2 without PSBT_GLOBAL_TX_VERSION".into()))?;
        let lock_time = fixed::<4>(
            &self.global,
            GLOBAL_FALLBACK_LOCKTIME,
            "PSBT_GLOBAL_FALLBACK_LOCKTIME",
        )?
        .map(u32::from_le_bytes)
        .unwrap_or(0);
        let mut input = Vec::with_capacity(self.inputs.len());
        for (i, m) in self.inputs.iter().enumerate() {
            if m.has_type(IN_REQUIRED_TIME_LOCKTIME) || m.has_type(IN_REQUIRED_HEIGHT_LOCKTIME) {
                return Err(PsbtError::UnsupportedV2(format!(
                    "input {i} requires a lock time"
                )));
            }
            let txid =
                fixed::<32>(m, IN_PREVIOUS_TXID, "PSBT_IN_PREVIOUS_TXID")?.ok_or_else(|| {
                    PsbtError::Malformed(format!("input {i} of a PSBT v2 has no previous txid"))
                })?;
            let vout =
                fixed::<4>(m, IN_OUTPUT_INDEX, "PSBT_IN_OUTPUT_INDEX")?.ok_or_else(|| {
                    PsbtError::Malformed(format!("input {i} of a PSBT v2 has no output index"))
                })?;
            let sequence = fixed::<4>(m, IN_SEQUENCE, "PSBT_IN_SEQUENCE")?
                .map(u32::from_le_bytes)
                .unwrap_or(u32::MAX);
            input.push(TxIn {
                previous_output: OutPoint::new(
                    Txid::from_byte_array(txid),
                    u32::from_le_bytes(vout),
                ),
                script_sig: ScriptBuf::new(),
                sequence: Sequence(sequence),
                witness: Witness::new(),
            });
        }
        let mut output = Vec::with_capacity(self.outputs.len());
        for (i, m) in self.outputs.iter().enumerate() {
            let amount = fixed::<8>(m, OUT_AMOUNT, "PSBT_OUT_AMOUNT")?.ok_or_else(|| {
                PsbtError::Malformed(format!("output {i} of a PSBT v2 has no amount"))
            })?;
            let amount = i64::from_le_bytes(amount);
            let amount = u64::try_from(amount)
                .map_err(|_| PsbtError::Malformed(format!("output {i} has a negative amount")))?;
            let script = m.get(&[OUT_SCRIPT]).ok_or_else(|| {
                PsbtError::Malformed(format!("output {i} of a PSBT v2 has no script"))
            })?;
            output.push(TxOut {
                value: Amount::from_sat(amount),
                script_pubkey: ScriptBuf::from_bytes(script.to_vec()),
            });
        }
        Ok(Transaction {
            version: transaction::Version(i32::from_le_bytes(version)),
            lock_time: absolute::LockTime::from_consensus(lock_time),
            input,
            output,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::consensus::encode::deserialize;

    fn pair(key: &[u8], value: &[u8]) -> Pair {
        Pair {
            key: key.to_vec(),
            value: value.to_vec(),
        }
    }

    fn v2_of(v0: &RawPsbt) -> RawPsbt {
        let tx: Transaction = deserialize(&v0.global.0[0].value).unwrap();
        RawPsbt {
            version: 2,
            global: RawMap(vec![
                pair(&[GLOBAL_TX_VERSION], &2i32.to_le_bytes()),
                pair(&[GLOBAL_INPUT_COUNT], &[1]),
                pair(&[GLOBAL_OUTPUT_COUNT], &[1]),
                pair(&[GLOBAL_VERSION], &2u32.to_le_bytes()),
            ]),
            inputs: vec![RawMap(vec![
                pair(
                    &[IN_PREVIOUS_TXID],
                    &tx.input[0].previous_output.txid.to_byte_array(),
                ),
                pair(
                    &[IN_OUTPUT_INDEX],
                    &tx.input[0].previous_output.vout.to_le_bytes(),
                ),
            ])],
            outputs: vec![RawMap(vec![
                pair(&[OUT_AMOUNT], &1000u64.to_le_bytes()),
                pair(&[OUT_SCRIPT], &[]),
            ])],
        }
    }

    #[test]
    fn v2_converts_to_v0_and_back_adding_only() {
        let v0 = super::super::raw::tests::one_in_one_out();
        let v2 = v2_of(&v0);
        let parsed = RawPsbt::parse(&v2.serialize()).unwrap();
        let converted = parsed.to_v0().unwrap();
        assert_eq!(converted, v0);
        let mut signed = converted.clone();
        signed.inputs[0].0.push(pair(&[0x02, 7], &[1, 2]));
        let back = parsed.with_additions(&converted, &signed).unwrap();
        assert_eq!(back.version, 2);
        assert_eq!(back.inputs[0].0.len(), 3);
        let mut changed = converted.clone();
        changed.global.0[0].value.push(0);
        assert!(parsed.with_additions(&converted, &changed).is_err());
    }

    #[test]
    fn required_lock_times_are_refused_with_the_way_out() {
        let mut v2 = v2_of(&super::super::raw::tests::one_in_one_out());
        v2.inputs[0]
            .0
            .push(pair(&[IN_REQUIRED_HEIGHT_LOCKTIME], &100u32.to_le_bytes()));
        let parsed = RawPsbt::parse(&v2.serialize()).unwrap();
        let err = parsed.to_v0().unwrap_err();
        assert!(matches!(err, PsbtError::UnsupportedV2(_)));
        assert!(err.to_string().contains("psbt_version=0"), "{err}");
    }

    #[test]
    fn v2_without_its_transaction_fields_is_malformed() {
        let mut v2 = v2_of(&super::super::raw::tests::one_in_one_out());
        v2.outputs[0].0.retain(|p| p.key != [OUT_AMOUNT]);
        let parsed = RawPsbt::parse(&v2.serialize()).unwrap();
        assert!(matches!(parsed.to_v0(), Err(PsbtError::Malformed(_))));
        let mut v2 = v2_of(&super::super::raw::tests::one_in_one_out());
        v2.global.0.retain(|p| p.key != [GLOBAL_INPUT_COUNT]);
        assert!(matches!(
            RawPsbt::parse(&v2.serialize()),
            Err(PsbtError::Malformed(_))
        ));
    }
}

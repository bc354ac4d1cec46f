//! Reading a large v0 PSBT into rust-bitcoin's [`Psbt`] on every core.
//!
//! rust-bitcoin reads a PSBT in one pass on one core, and at 10,000 inputs
//! most of that pass is decompressing the 30,000 public keys of the BIP-32
//! derivations. An input map is read without regard to the others, so the
//! inputs are cut into runs and each run is read by rust-bitcoin as a PSBT of
//! its own: the same global map, with an unsigned transaction of just that
//! run's inputs (the first run also carries the outputs and their maps).
//! The runs are then joined under the whole unsigned transaction.
//!
//! Only success takes this path: if any run is refused, the whole PSBT is
//! read again in one pass, so a refusal is exactly the one rust-bitcoin
//! gives, and a PSBT is accepted exactly when rust-bitcoin accepts it (a unit
//! test checks the joined result against the one-pass read).

use bitcoin::consensus::encode::serialize;
use bitcoin::Psbt;
use rayon::prelude::*;

use super::{unsigned_tx_of, Pair, RawMap, RawPsbt, GLOBAL_UNSIGNED_TX};

/// Fewer inputs than this are read in one pass: below it the runs would
/// cost more to set up than they save.
const MIN_SPLIT_INPUTS: usize = 256;

/// Reads `raw`, a v0 PSBT, as `Psbt::deserialize` would, on every core.
pub(crate) fn deserialize(raw: &RawPsbt) -> Result<Psbt, bitcoin::psbt::Error> {
    let threads = rayon::current_num_threads();
    if raw.inputs.len() < MIN_SPLIT_INPUTS || threads < 2 {
        return Psbt::deserialize(&raw.serialize());
    }
    // Two runs a core, so a core that finishes early takes another.
    match deserialize_in_runs(raw, raw.inputs.len().div_ceil(threads * 2)) {
        Some(psbt) => Ok(psbt),
        None => Psbt::deserialize(&raw.serialize()),
    }
}

/// `raw` read in runs of `run_len` inputs, or `None` if any run is refused
/// (or `raw` has no unsigned transaction rust-bitcoin could take).
fn deserialize_in_runs(raw: &RawPsbt, run_len: usize) -> Option<Psbt> {
    let tx = unsigned_tx_of(&raw.global).ok()?;
    if raw.version != 0 || tx.input.is_empty() || tx.input.len() != raw.inputs.len() {
        return None;
    }
    let runs: Vec<(usize, &[RawMap])> = raw
        .inputs
        .chunks(run_len.max(1))
        .enumerate()
        .map(|(n, maps)| (n * run_len.max(1), maps))
        .collect();
    let read: Vec<Option<Psbt>> = runs
        .par_iter()
        .map(|&(start, maps)| {
            let first = start == 0;
            let mut run_tx = tx.clone();
            run_tx.input = tx.input[start..start + maps.len()].to_vec();
            if !first {
                run_tx.output.clear();
            }
            let global = RawMap(
                raw.global
                    .0
                    .iter()
                    .map(|p| match p.key.as_slice() {
                        [GLOBAL_UNSIGNED_TX] => Pair {
                            key: p.key.clone(),
                            value: serialize(&run_tx),
                        },
                        _ => p.clone(),
                    })
                    .collect(),
            );
            let run = RawPsbt {
                version: 0,
                global,
                inputs: maps.to_vec(),
                outputs: if first {
                    raw.outputs.clone()
                } else {
                    Vec::new()
                },
            };
            Psbt::deserialize(&run.serialize()).ok()
        })
        .collect();
    let mut read = read.into_iter();
    let mut psbt = read.next()??;
    for run in read {
        psbt.inputs.extend(run?.inputs);
    }
    psbt.unsigned_tx = tx;
    Some(psbt)
}

#[cfg(test)]
mod tests {
    use super::*;

    use bitcoin::bip32::{DerivationPath, Fingerprint};
    use bitcoin::secp256k1::{Secp256k1, SecretKey};
    use bitcoin::{absolute, transaction, Amount, OutPoint, ScriptBuf, Transaction, TxIn, TxOut};

    /// A PSBT of `n` inputs, each with a BIP-32 derivation and a witness
    /// UTXO, and two outputs, one with a derivation.
    fn psbt_of(n: u32) -> Psbt {
        let secp = Secp256k1::new();
        let tx = Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::from_consensus(7),
            input: (0..n)
                .map(|i| TxIn {
                    previous_output: OutPoint {
                        txid: bitcoin::Txid::from_raw_hash(bitcoin::hashes::Hash::from_byte_array(
                            [i as u8; 32],
                        )),
                        vout: i,
                    },
                    ..TxIn::default()
                })
                .collect(),
            output: vec![
                TxOut {
                    value: Amount::from_sat(1_000),
                    script_pubkey: ScriptBuf::new(),
                },
                TxOut {
                    value: Amount::from_sat(2_000),
                    script_pubkey: ScriptBuf::new(),
                },
            ],
        };
        let mut psbt = Psbt::from_unsigned_tx(tx).unwrap();
        let path: DerivationPath = "m/48'/1'/0'/2'/0/5".parse().unwrap();
        for (i, input) in psbt.inputs.iter_mut().enumerate() {
            let key = SecretKey::from_slice(&[(i % 250) as u8 + 1; 32]).unwrap();
            input.bip32_derivation.insert(
                key.public_key(&secp),
                (Fingerprint::from([1, 2, 3, 4]), path.clone()),
            );
            input.witness_utxo = Some(TxOut {
                value: Amount::from_sat(10_000 + i as u64),
                script_pubkey: ScriptBuf::new(),
            });
        }
        let key = SecretKey::from_slice(&[9; 32]).unwrap();
        psbt.outputs[1].bip32_derivation.insert(
            key.public_key(&secp),
            (Fingerprint::from([1, 2, 3, 4]), path),
        );
        psbt
    }

    #[test]
    fn runs_join_to_the_one_pass_read() {
        for n in [1, 2, 5, 300] {
            let psbt = psbt_of(n);
            let raw = RawPsbt::parse(&psbt.serialize()).unwrap();
            for run_len in [1, 2, 3, 64, 1_000] {
                assert_eq!(
                    deserialize_in_runs(&raw, run_len).as_ref(),
                    Some(&psbt),
                    "{n} {run_len}"
                );
            }
            assert_eq!(deserialize(&raw).unwrap(), psbt);
        }
    }

    #[test]
    fn a_refused_run_gives_rust_bitcoins_refusal() {
        let psbt = psbt_of(300);
        let mut raw = RawPsbt::parse(&psbt.serialize()).unwrap();
        // A derivation whose key is not a public key, in a late input.
        let pair = raw.inputs[290]
            .0
            .iter_mut()
            .find(|p| p.key[0] == 0x06)
            .unwrap();
        pair.key[1..].copy_from_slice(&[0x05; 33]);
        assert!(deserialize_in_runs(&raw, 10).is_none());
        let one_pass = Psbt::deserialize(&raw.serialize()).unwrap_err();
        assert_eq!(
            deserialize(&raw).unwrap_err().to_string(),
            one_pass.to_string()
        );
    }
}

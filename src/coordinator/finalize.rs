//! After a proposal: merging the returned files and finalizing once the
//! quorum is complete. What has come back is in [`super::quorum`];
//! broadcasting and abandoning in [`super::broadcast`].

use std::path::{Path, PathBuf};

use bitcoin::consensus::encode::serialize_hex;
use bitcoin::{Psbt, Txid};
use miniscript::psbt::PsbtExt;
use serde::Serialize;

use crate::audit::{self, Combined, Event};
use crate::psbt::compact::{CompactError, Received};
use crate::psbt::read::read_bytes;
use crate::psbt::{policy_tag, PolicyTag, PsbtDocument};
use crate::transport::write_new_atomically;

use super::error::{CoordinatorError, Refusal};
use super::quorum::CollectionStatus;
use super::vault::Coordinator;

/// What `finalize` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Finalized {
    /// The transaction id.
    pub txid: Txid,
    /// The file with the raw transaction in hex.
    pub file: PathBuf,
    /// Its virtual size.
    pub vsize: u64,
}

impl Coordinator {
    /// Reads a PSBT strictly and checks that it belongs to this vault.
    pub fn read_psbt(&self, path: &Path) -> Result<Psbt, CoordinatorError> {
        Ok(self.read_psbt_document(path)?.psbt().clone())
    }

    /// Reads a PSBT strictly, keeping its version and encoding, and checks
    /// that it belongs to this vault. A compact PSBT (a signer's copy sent
    /// back under `--qr-compact`) is re-filled from this vault's policy
    /// first, and refused if that policy does not re-derive it.
    pub fn read_psbt_document(&self, path: &Path) -> Result<PsbtDocument, CoordinatorError> {
        let psbt_error = |source| CoordinatorError::Psbt {
            path: path.to_owned(),
            source,
        };
        let compact_error = |source| match source {
            CompactError::Psbt(source) => psbt_error(source),
            source => CoordinatorError::Compact {
                path: path.to_owned(),
                source,
            },
        };
        let received =
            Received::from_bytes(&read_bytes(path).map_err(psbt_error)?).map_err(compact_error)?;
        let doc = received
            .into_document(|_| Ok(self.policy().clone()))
            .map_err(compact_error)?;
        match policy_tag(doc.psbt()) {
            PolicyTag::Present(id) if id == self.policy().id() => Ok(doc),
            PolicyTag::Present(id) => Err(CoordinatorError::OtherVault {
                path: path.to_owned(),
                expected: self.policy().id(),
                found: id.to_string(),
            }),
            PolicyTag::Missing => Err(CoordinatorError::OtherVault {
                path: path.to_owned(),
                expected: self.policy().id(),
                found: "(no custodia policy id)".into(),
            }),
            PolicyTag::Malformed => Err(CoordinatorError::OtherVault {
                path: path.to_owned(),
                expected: self.policy().id(),
                found: "(a malformed policy id)".into(),
            }),
        }
    }

    /// Reads copies of one proposal and merges their approvals and signatures.
    pub fn merge_psbts(&self, paths: &[PathBuf]) -> Result<Psbt, CoordinatorError> {
        Ok(self.merge_documents(paths)?.1)
    }

    /// Like [`Coordinator::merge_psbts`], also returning the first file as
    /// read, whose version and encoding the merged file keeps.
    fn merge_documents(&self, paths: &[PathBuf]) -> Result<(PsbtDocument, Psbt), CoordinatorError> {
        let (first_path, rest) = paths
            .split_first()
            .ok_or_else(|| CoordinatorError::BadArgument("no PSBT files given".into()))?;
        let first = self.read_psbt_document(first_path)?;
        let mut merged = first.psbt().clone();
        let expected = merged.unsigned_tx.compute_txid();
        for path in rest {
            let other = self.read_psbt(path)?;
            let found = other.unsigned_tx.compute_txid();
            if found != expected {
                return Err(CoordinatorError::DifferentTransactions {
                    first_path: first_path.clone(),
                    expected,
                    path: path.clone(),
                    found,
                });
            }
            // A copy re-filled from compact frames states the previous
            // outputs its hints re-derive; one that disagrees with the first
            // copy is refused rather than silently merged.
            let disagrees = merged.inputs.iter().zip(&other.inputs).position(
                |(a, b)| matches!((&a.witness_utxo, &b.witness_utxo), (Some(x), Some(y)) if x != y),
            );
            if let Some(input) = disagrees {
                return Err(CoordinatorError::bad_file(
                    path,
                    format!("states another previous output for input {input} than {}; take a fresh copy from the signer", first_path.display()),
                ));
            }
            merged.combine(other).map_err(|e| {
                CoordinatorError::bad_file(path, format!("cannot be combined: {e}"))
            })?;
        }
        Ok((first, merged))
    }

    /// `approvals`: merges the files in memory, reports, and logs approvals
    /// seen for the first time.
    pub fn approvals(&self, paths: &[PathBuf]) -> Result<CollectionStatus, CoordinatorError> {
        let psbt = self.merge_psbts(paths)?;
        let status = self.collection_status(&psbt)?;
        if let Some(m) = status.movement {
            self.log_new_approvals(&psbt, status.txid, m, &status.approved_by)?;
        }
        self.log_new_signer_heads(&psbt)?;
        Ok(status)
    }

    /// `combine`: merges copies of one proposal into a new file.
    pub fn combine(
        &self,
        paths: &[PathBuf],
        out: &Path,
    ) -> Result<CollectionStatus, CoordinatorError> {
        let (first, psbt) = self.merge_documents(paths)?;
        let status = self.collection_status(&psbt)?;
        // The merged file keeps the first file's PSBT version and encoding.
        let bytes = first
            .encode(&psbt, first.encoding())
            .map_err(|e| CoordinatorError::Psbt {
                path: out.to_owned(),
                source: e,
            })?;
        write_new_atomically(out, &bytes)?;
        if let Some(m) = status.movement {
            self.log_new_approvals(&psbt, status.txid, m, &status.approved_by)?;
        }
        self.log_new_signer_heads(&psbt)?;
        self.log(&Event::Combine(Combined {
            policy_id: self.policy().id(),
            txid: status.txid,
            files: paths.iter().map(|p| p.display().to_string()).collect(),
            out: out.display().to_string(),
            approvers: status
                .approved_by
                .iter()
                .map(|a| a.approver.clone())
                .collect(),
            signatures: status.inputs.iter().map(|i| i.signatures).collect(),
        }))?;
        Ok(status)
    }

    /// `finalize`: only when every rule holds (approvals included) and every
    /// input has its quorum; writes the raw transaction as hex.
    pub fn finalize(&self, paths: &[PathBuf], out: &Path) -> Result<Finalized, CoordinatorError> {
        let mut psbt = self.merge_psbts(paths)?;
        let status = self.collection_status(&psbt)?;
        if let Some(m) = status.movement {
            self.log_new_approvals(&psbt, status.txid, m, &status.approved_by)?;
        }
        self.log_new_signer_heads(&psbt)?;
        if status.movement.is_some_and(|m| m.is_proof()) {
            return Err(CoordinatorError::ProofIsNoTransaction(status.txid));
        }
        if !status.other_failures.is_empty() {
            return Err(Refusal::Rules(status.other_failures.clone()).into());
        }
        if !status.approvals_complete {
            return Err(CoordinatorError::NotReady(format!(
                "{} of {} approvals from {} of {} departments (missing: {}); collect approvals with `custodia-signer approve`, then `combine`",
                status.approved_by.len(),
                status.min_approvals,
                status.departments_approved.len(),
                status.min_departments,
                status.departments_missing.join(", ")
            )));
        }
        if !status.signatures_complete {
            let short: Vec<String> = status
                .inputs
                .iter()
                .filter(|i| i.signatures < i.needed)
                .map(|i| format!("input {} has {} of {}", i.index, i.signatures, i.needed))
                .collect();
            return Err(CoordinatorError::NotReady(format!(
                "signatures missing ({}); collect more signed copies and `combine` them",
                short.join(", ")
            )));
        }
        let secp = bitcoin::secp256k1::Secp256k1::verification_only();
        psbt.finalize_mut(&secp).map_err(|errors| {
            let list: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            CoordinatorError::NotReady(format!(
                "the signatures do not complete the scripts: {}",
                list.join("; ")
            ))
        })?;
        let tx = psbt.extract_tx().map_err(|e| {
            CoordinatorError::NotReady(format!("cannot extract the transaction: {e}"))
        })?;
        let txid = tx.compute_txid();
        write_new_atomically(out, serialize_hex(&tx).as_bytes())?;
        self.log(&Event::Finalize(audit::Finalized {
            policy_id: self.policy().id(),
            txid,
            movement: status.movement,
            out: out.display().to_string(),
        }))?;
        Ok(Finalized {
            txid,
            file: out.to_owned(),
            vsize: tx.vsize() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use bitcoin::Amount;

    use crate::coordinator::test_vault::{TestVault, BTC};
    use crate::coordinator::CoordinatorError;
    use crate::policy::Tier;

    #[test]
    fn copies_stating_other_previous_outputs_are_not_merged() {
        let v = TestVault::new();
        v.fund(Tier::Cold, 10 * BTC);
        let p = v.transfer(Tier::Cold, BTC, "transfer.psbt").unwrap();
        let mut other = v.read_psbt(&p.file);
        let prevout = other.inputs[0].witness_utxo.as_mut().unwrap();
        prevout.value += Amount::from_sat(1);
        let copy = v.write_psbt("other.psbt", &other);
        match v.coordinator.merge_psbts(&[p.file.clone(), copy]) {
            Err(CoordinatorError::BadFile { reason, .. }) => {
                assert!(reason.contains("previous output for input 0"), "{reason}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}

//! Signing every input: the elliptic-curve work (each address key's public
//! key, each signature, each check of a signature already there) runs on
//! every core; the sighashes are computed in input order through one
//! `SighashCache`, which hashes the transaction-wide parts once.

use bitcoin::ecdsa;
use bitcoin::psbt::Input;
use bitcoin::secp256k1::{All, Keypair, Message, PublicKey, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::taproot::{self, TapLeafHash};
use bitcoin::{Transaction, TxOut, XOnlyPublicKey};
use miniscript::Descriptor;
use rayon::prelude::*;

use super::{leaf_with_key, Signed, SigningError};
use crate::policy::ScriptKind;
use crate::psbt::SignatureSlot;

/// Address keys, wiped when dropped, whatever path the signing took.
pub(super) struct AddressKeys(pub Vec<(usize, SecretKey)>);

impl Drop for AddressKeys {
    fn drop(&mut self) {
        for (_, key) in &mut self.0 {
            key.non_secure_erase();
        }
    }
}

/// What one input needs signed.
enum Job {
    Ecdsa {
        msg: Message,
        pubkey: bitcoin::PublicKey,
    },
    Schnorr {
        msg: Message,
        key: XOnlyPublicKey,
        leaf: TapLeafHash,
        ty: TapSighashType,
    },
}

/// A signature to put in, and what it did.
enum NewSignature {
    None(Signed),
    Ecdsa(bitcoin::PublicKey, ecdsa::Signature, Signed),
    Schnorr((XOnlyPublicKey, TapLeafHash), taproot::Signature, Signed),
}

/// Signs input `index` of `inputs` with each address key of `keys`, whose
/// scripts are `descriptors` (in the order of `keys`); returns what each
/// input's signing did, in input order.
#[allow(clippy::too_many_arguments)]
pub(super) fn sign_inputs(
    secp: &Secp256k1<All>,
    kind: ScriptKind,
    tx: &Transaction,
    inputs: &mut [Input],
    keys: &AddressKeys,
    descriptors: &[&Descriptor<bitcoin::PublicKey>],
    prevouts: &[TxOut],
) -> Result<Vec<(usize, Signed)>, SigningError> {
    let pubkeys: Vec<PublicKey> = keys.0.par_iter().map(|(_, k)| k.public_key(secp)).collect();
    let mut cache = SighashCache::new(tx);
    let mut jobs = Vec::with_capacity(keys.0.len());
    for ((&(index, _), pubkey), descriptor) in keys.0.iter().zip(&pubkeys).zip(descriptors) {
        let err = |e: &dyn std::fmt::Display| SigningError::Sighash {
            index,
            reason: e.to_string(),
        };
        let job = match kind {
            ScriptKind::Wsh => {
                let script = descriptor.explicit_script().map_err(|e| err(&e))?;
                let sighash = cache
                    .p2wsh_signature_hash(
                        index,
                        &script,
                        prevouts[index].value,
                        EcdsaSighashType::All,
                    )
                    .map_err(|e| err(&e))?;
                Some(Job::Ecdsa {
                    msg: Message::from(sighash),
                    pubkey: bitcoin::PublicKey::new(*pubkey),
                })
            }
            ScriptKind::Tr => {
                let key = XOnlyPublicKey::from(*pubkey);
                match leaf_with_key(descriptor, &key) {
                    None => None,
                    Some(leaf) => {
                        let ty = match inputs[index].sighash_type.map(|t| t.to_u32()) {
                            Some(0x01) => TapSighashType::All,
                            _ => TapSighashType::Default,
                        };
                        let sighash = cache
                            .taproot_script_spend_signature_hash(
                                index,
                                &Prevouts::All(prevouts),
                                leaf,
                                ty,
                            )
                            .map_err(|e| err(&e))?;
                        Some(Job::Schnorr {
                            msg: Message::from(sighash),
                            key,
                            leaf,
                            ty,
                        })
                    }
                }
            }
        };
        jobs.push(job);
    }
    let signatures: Vec<NewSignature> = keys
        .0
        .par_iter()
        .zip(jobs.par_iter())
        .map(|((index, secret), job)| sign_one(secp, &inputs[*index], *index, job.as_ref(), secret))
        .collect();
    let mut done = Vec::with_capacity(signatures.len());
    for ((index, _), signature) in keys.0.iter().zip(signatures) {
        let input = &mut inputs[*index];
        let outcome = match signature {
            NewSignature::None(outcome) => outcome,
            NewSignature::Ecdsa(pubkey, sig, outcome) => {
                input.partial_sigs.insert(pubkey, sig);
                outcome
            }
            NewSignature::Schnorr(slot, sig, outcome) => {
                input.tap_script_sigs.insert(slot, sig);
                outcome
            }
        };
        done.push((*index, outcome));
    }
    Ok(done)
}

/// A signature already present for the key is kept if it verifies for this
/// input with the sighash type the signer uses, and replaced otherwise: a
/// bogus pre-filled signature must neither block signing nor survive it.
fn sign_one(
    secp: &Secp256k1<All>,
    input: &Input,
    index: usize,
    job: Option<&Job>,
    secret: &SecretKey,
) -> NewSignature {
    match job {
        // A key in no leaf this input can spend with cannot happen for a
        // key of the wallet's main path.
        None => NewSignature::None(Signed::NotInLeaf),
        Some(Job::Ecdsa { msg, pubkey }) => {
            let present = input.partial_sigs.get(pubkey).map(|old| {
                old.sighash_type == EcdsaSighashType::All
                    && secp
                        .verify_ecdsa(msg, &old.signature, &pubkey.inner)
                        .is_ok()
            });
            if present == Some(true) {
                return NewSignature::None(Signed::AlreadyValid);
            }
            let signature = ecdsa::Signature {
                signature: secp.sign_ecdsa(msg, secret),
                sighash_type: EcdsaSighashType::All,
            };
            let outcome = match present {
                Some(_) => Signed::Replaced(SignatureSlot::Ecdsa {
                    input: index,
                    pubkey: *pubkey,
                }),
                None => Signed::Added,
            };
            NewSignature::Ecdsa(*pubkey, signature, outcome)
        }
        Some(Job::Schnorr { msg, key, leaf, ty }) => {
            let present = input.tap_script_sigs.get(&(*key, *leaf)).map(|old| {
                old.sighash_type == *ty && secp.verify_schnorr(&old.signature, msg, key).is_ok()
            });
            // Schnorr signing here is randomized: re-signing a PSBT this
            // signer signed before must keep its signature, not change it.
            if present == Some(true) {
                return NewSignature::None(Signed::AlreadyValid);
            }
            let mut keypair = Keypair::from_secret_key(secp, secret);
            let signature = taproot::Signature {
                signature: secp.sign_schnorr(msg, &keypair),
                sighash_type: *ty,
            };
            keypair.non_secure_erase();
            let outcome = match present {
                Some(_) => Signed::Replaced(SignatureSlot::TapScript {
                    input: index,
                    key: *key,
                    leaf: *leaf,
                }),
                None => Signed::Added,
            };
            NewSignature::Schnorr((*key, *leaf), signature, outcome)
        }
    }
}

//! Signing every input on every core: the elliptic-curve work (taproot
//! keypairs, each signature, each check of a signature already there) and
//! the signature hashes, each run of inputs through its own `SighashCache`.
//! A segwit v0 address key's public key is taken from the descriptor the
//! review derived, not computed again.

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

/// The address keys as keypairs, wiped when dropped.
struct Keypairs(Vec<Keypair>);

impl Drop for Keypairs {
    fn drop(&mut self) {
        for keypair in &mut self.0 {
            keypair.non_secure_erase();
        }
    }
}

/// The public key of each address key: those the review already derived
/// (`known`, from the reviewed descriptors) cost nothing. They are trusted
/// only if the first one is the first secret key's own (one
/// multiplication); otherwise, and where one is unknown, every public key is
/// computed from its secret key.
fn public_keys(
    secp: &Secp256k1<All>,
    keys: &AddressKeys,
    known: &[Option<PublicKey>],
) -> Vec<PublicKey> {
    let first_agrees = match (keys.0.first(), known.first()) {
        (Some((_, secret)), Some(Some(public))) => secret.public_key(secp) == *public,
        _ => false,
    };
    if first_agrees && known.len() == keys.0.len() {
        if let Some(all) = known.iter().copied().collect::<Option<Vec<_>>>() {
            return all;
        }
    }
    keys.0.par_iter().map(|(_, k)| k.public_key(secp)).collect()
}

/// Inputs signed through one `SighashCache`: its transaction-wide hashes
/// (BIP-143 and BIP-341 midstates) are computed once per run, a few times
/// per transaction, so the sighashes too are computed on every core and the
/// cost stays linear in the number of inputs.
const SIGHASH_RUN: usize = 512;

/// What every input's signature hash is computed from.
struct JobContext<'a> {
    inputs: &'a [Input],
    prevouts: &'a [TxOut],
}

/// The key an input is signed with, as its signature scheme (ECDSA for
/// P2WSH, Schnorr for taproot) needs it.
enum JobKey<'k> {
    Ecdsa(&'k SecretKey),
    Schnorr(&'k Keypair),
}

impl JobContext<'_> {
    /// What input `index` needs signed with `key` (public key `pubkey`),
    /// whose script is `descriptor`; `None` if the key is in no leaf.
    fn job<'k>(
        &self,
        cache: &mut SighashCache<&Transaction>,
        index: usize,
        pubkey: &PublicKey,
        descriptor: &Descriptor<bitcoin::PublicKey>,
        key: JobKey<'k>,
    ) -> Result<Option<Job<'k>>, SigningError> {
        let err = |e: &dyn std::fmt::Display| SigningError::Sighash {
            index,
            reason: e.to_string(),
        };
        match key {
            JobKey::Ecdsa(secret) => {
                let script = descriptor.explicit_script().map_err(|e| err(&e))?;
                let sighash = cache
                    .p2wsh_signature_hash(
                        index,
                        &script,
                        self.prevouts[index].value,
                        EcdsaSighashType::All,
                    )
                    .map_err(|e| err(&e))?;
                Ok(Some(Job::Ecdsa {
                    msg: Message::from(sighash),
                    pubkey: bitcoin::PublicKey::new(*pubkey),
                    secret,
                }))
            }
            JobKey::Schnorr(keypair) => {
                let key = XOnlyPublicKey::from(*pubkey);
                let Some(leaf) = leaf_with_key(descriptor, &key) else {
                    return Ok(None);
                };
                let ty = match self.inputs[index].sighash_type.map(|t| t.to_u32()) {
                    Some(0x01) => TapSighashType::All,
                    _ => TapSighashType::Default,
                };
                let sighash = cache
                    .taproot_script_spend_signature_hash(
                        index,
                        &Prevouts::All(self.prevouts),
                        leaf,
                        ty,
                    )
                    .map_err(|e| err(&e))?;
                Ok(Some(Job::Schnorr {
                    msg: Message::from(sighash),
                    key,
                    leaf,
                    ty,
                    keypair,
                }))
            }
        }
    }
}

/// What one input needs signed.
enum Job<'k> {
    Ecdsa {
        msg: Message,
        pubkey: bitcoin::PublicKey,
        secret: &'k SecretKey,
    },
    Schnorr {
        msg: Message,
        key: XOnlyPublicKey,
        leaf: TapLeafHash,
        ty: TapSighashType,
        keypair: &'k Keypair,
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
    known: &[Option<PublicKey>],
    descriptors: &[&Descriptor<bitcoin::PublicKey>],
    prevouts: &[TxOut],
) -> Result<Vec<(usize, Signed)>, SigningError> {
    // A Schnorr signature needs the keypair, whose public key comes with its
    // one multiplication; ECDSA needs only the secret key.
    let keypairs = Keypairs(match kind {
        ScriptKind::Tr => keys
            .0
            .par_iter()
            .map(|(_, k)| Keypair::from_secret_key(secp, k))
            .collect(),
        ScriptKind::Wsh => Vec::new(),
    });
    let pubkeys: Vec<PublicKey> = match kind {
        ScriptKind::Tr => keypairs.0.iter().map(Keypair::public_key).collect(),
        ScriptKind::Wsh => public_keys(secp, keys, known),
    };
    let inputs_read: &[Input] = inputs;
    let context = JobContext {
        inputs: inputs_read,
        prevouts,
    };
    let positions: Vec<usize> = (0..keys.0.len()).collect();
    let jobs: Vec<Option<Job<'_>>> = positions
        .par_chunks(SIGHASH_RUN)
        .map(|run| {
            let mut cache = SighashCache::new(tx);
            run.iter()
                .map(|&n| {
                    let (index, secret) = &keys.0[n];
                    let key = match kind {
                        ScriptKind::Wsh => JobKey::Ecdsa(secret),
                        ScriptKind::Tr => JobKey::Schnorr(&keypairs.0[n]),
                    };
                    context.job(&mut cache, *index, &pubkeys[n], descriptors[n], key)
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    let signatures: Vec<NewSignature> = keys
        .0
        .par_iter()
        .zip(jobs.par_iter())
        .map(|((index, _), job)| sign_one(secp, &inputs[*index], *index, job.as_ref()))
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
    job: Option<&Job<'_>>,
) -> NewSignature {
    match job {
        // A key in no leaf this input can spend with cannot happen for a
        // key of the wallet's main path.
        None => NewSignature::None(Signed::NotInLeaf),
        Some(Job::Ecdsa {
            msg,
            pubkey,
            secret,
        }) => {
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
        Some(Job::Schnorr {
            msg,
            key,
            leaf,
            ty,
            keypair,
        }) => {
            let present = input.tap_script_sigs.get(&(*key, *leaf)).map(|old| {
                old.sighash_type == *ty && secp.verify_schnorr(&old.signature, msg, key).is_ok()
            });
            // Schnorr signing here is randomized: re-signing a PSBT this
            // signer signed before must keep its signature, not change it.
            if present == Some(true) {
                return NewSignature::None(Signed::AlreadyValid);
            }
            let signature = taproot::Signature {
                signature: secp.sign_schnorr(msg, keypair),
                sighash_type: *ty,
            };
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

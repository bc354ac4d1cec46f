//! Policy-enforced signing: only a [`SignablePsbt`], which only a passing
//! review of that exact PSBT makes, only inputs of the one wallet it spends, and
//! nothing added but signatures. Never finalizes.
//!
//! All inputs are signed in one pass with one `SighashCache`, so the cost is
//! linear in the number of inputs (the segwit v0 and taproot midstate hashes
//! are computed once, not once per input), and the elliptic-curve work runs
//! on every core ([`inputs`]).
//!
//! [`session`] runs the signer's `review`, `sign` and `approve` commands on
//! PSBT files: which policy, the day's totals from the log, log before write.

mod chain_keys;
mod error;
mod inputs;
mod opened;
mod reports;
pub mod session;
mod transfer;

use chain_keys::signer_key;

pub use error::SigningError;

use bitcoin::secp256k1::Secp256k1;
use bitcoin::taproot::{LeafVersion, TapLeafHash};
use bitcoin::{Psbt, TxOut, XOnlyPublicKey};
use miniscript::{Descriptor, ToPublicKey};

use crate::audit::{self, Event, ReplacedSignatureLogged};
use crate::policy::KeyId;
use crate::psbt::{Review, SignablePsbt, SignatureSlot};
use crate::signer::keystore::MasterKey;

/// What was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOutcome {
    /// Inputs that received a signature (or already held this signer's
    /// valid one).
    pub inputs_signed: usize,
    /// The policy keys the seed signed with.
    pub keys: Vec<KeyId>,
    /// Signatures the PSBT already held for this signer's keys that did not
    /// verify, replaced by valid ones. Write the PSBT back with
    /// [`PsbtDocument::encode_replacing`](crate::psbt::PsbtDocument::encode_replacing)
    /// naming these.
    pub replaced: Vec<ReplacedSignature>,
}

/// A signature for one of this signer's keys that was already in the PSBT,
/// did not verify (wrong transaction, wrong sighash type, garbage), and was
/// replaced by the signer's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplacedSignature {
    /// The policy key it was for.
    pub key: KeyId,
    /// The field replaced.
    pub slot: SignatureSlot,
}

impl SignOutcome {
    /// The fields replaced, for writing back.
    pub fn replaced_slots(&self) -> Vec<SignatureSlot> {
        self.replaced.iter().map(|r| r.slot.clone()).collect()
    }
}

/// What one key did to one input.
enum Signed {
    /// The key is in no leaf this input can spend with (taproot).
    NotInLeaf,
    /// A new signature was added.
    Added,
    /// The PSBT already held this key's valid signature; it is kept.
    AlreadyValid,
    /// The PSBT held a signature for this key that did not verify.
    Replaced(SignatureSlot),
}

/// A signed copy of a reviewed PSBT, and what was signed.
#[derive(Debug, Clone)]
pub struct SignedPsbt {
    /// The PSBT with this signer's signatures added.
    pub psbt: Psbt,
    /// What was signed.
    pub outcome: SignOutcome,
}

/// Signs every input of a reviewed PSBT with this seed's one key of the
/// spent wallet, and returns the signed copy.
///
/// Adds ECDSA `partial_sigs` (P2WSH) or script-path `tap_script_sigs` (the
/// taproot `multi_a` leaf rebuilt from the policy), nothing else. A
/// signature already there for this key (a bogus one, or an earlier one of
/// the same signer) is replaced by a valid one.
pub fn sign_psbt(signable: &SignablePsbt, master: &MasterKey) -> Result<SignedPsbt, SigningError> {
    let policy = signable.policy();
    let tier = signable.tier();
    let secp = Secp256k1::new();
    let key = signer_key(policy, tier, master, &secp, signable.review().recovery())?;
    let kind = policy.wallet(tier).script();
    let reviewed = signable.inputs();
    let prevouts: Vec<TxOut> = reviewed.iter().map(|i| i.spent.clone()).collect();

    let mut psbt = signable.psbt().clone();
    let Psbt {
        unsigned_tx,
        inputs,
        ..
    } = &mut psbt;
    // A proof's challenge spends nothing of the vault: nothing to sign.
    let (keys, descriptors): (Vec<_>, Vec<_>) = reviewed
        .iter()
        .enumerate()
        .filter_map(|(index, r)| {
            r.vault
                .as_ref()
                .map(|(at, d)| ((index, key.at(at.chain, at.index)), d))
        })
        .unzip();
    let keys = inputs::AddressKeys(keys);
    let known = key.public_keys_in(
        policy,
        tier,
        reviewed.iter().filter_map(|r| r.vault.as_ref()),
    );
    let outcomes = inputs::sign_inputs(
        &secp,
        kind,
        unsigned_tx,
        inputs,
        &keys,
        &known,
        &descriptors,
        &prevouts,
    )?;
    let mut signed = 0;
    let mut replaced = Vec::new();
    for (_, outcome) in outcomes {
        match outcome {
            Signed::NotInLeaf => {}
            Signed::Added | Signed::AlreadyValid => signed += 1,
            Signed::Replaced(slot) => {
                signed += 1;
                replaced.push(ReplacedSignature {
                    key: key.id.clone(),
                    slot,
                });
            }
        }
    }
    Ok(SignedPsbt {
        psbt,
        outcome: SignOutcome {
            inputs_signed: signed,
            keys: vec![key.id.clone()],
            replaced,
        },
    })
}

/// The hash of the tapleaf (rebuilt from the policy) in which `key` appears:
/// the main `multi_a` leaf for main-path keys.
fn leaf_with_key(
    descriptor: &Descriptor<bitcoin::PublicKey>,
    key: &XOnlyPublicKey,
) -> Option<TapLeafHash> {
    let Descriptor::Tr(tr) = descriptor else {
        return None;
    };
    tr.iter_scripts()
        .find(|(_, ms)| ms.iter_pk().any(|pk| pk.to_x_only_pubkey() == *key))
        .map(|(_, ms)| TapLeafHash::from_script(&ms.encode(), LeafVersion::TapScript))
}

/// The log event a signature writes; daily limits are summed from these.
pub fn sign_event(
    review: &Review,
    outcome: &SignOutcome,
    signer: bitcoin::bip32::Fingerprint,
) -> Event {
    Event::Sign(audit::Signed {
        signer: Some(signer),
        policy_id: review.policy_id(),
        vault: review.vault().to_owned(),
        txid: review.txid(),
        movement: review.movement(),
        amount: review.moved(),
        fee: review.fee(),
        inputs_signed: outcome.inputs_signed,
        keys: outcome.keys.iter().map(|k| k.to_string()).collect(),
        lock_time: review.lock_time(),
        replaced_signatures: outcome
            .replaced
            .iter()
            .map(|r| ReplacedSignatureLogged {
                input: r.slot.input(),
                key: r.key.to_string(),
            })
            .collect(),
        online_interfaces: crate::signer::online::interfaces_up(),
    })
}

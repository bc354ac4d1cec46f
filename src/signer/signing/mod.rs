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

mod error;
mod inputs;
mod reports;
pub mod session;
mod transfer;

pub use error::SigningError;

use bitcoin::bip32::{ChildNumber, Xpriv, Xpub};
use bitcoin::secp256k1::{Secp256k1, SecretKey};
use bitcoin::taproot::{LeafVersion, TapLeafHash};
use bitcoin::{Psbt, TxOut, XOnlyPublicKey};
use miniscript::{Descriptor, ToPublicKey};

use crate::audit::{self, Event, ReplacedSignatureLogged};
use crate::policy::{KeyId, Tier, VaultPolicy};
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

/// One of the signer's keys in the spent wallet, derived to its two chains
/// (private and public: an address key is then the chain key plus a tweak
/// that costs one HMAC, with no elliptic-curve multiplication).
struct ChainKeys {
    id: KeyId,
    chains: [(Xpriv, Xpub); 2],
}

impl Drop for ChainKeys {
    fn drop(&mut self) {
        for (xpriv, _) in &mut self.chains {
            xpriv.private_key.non_secure_erase();
        }
    }
}

impl ChainKeys {
    fn at(&self, chain: u32, index: u32) -> SecretKey {
        let (xpriv, xpub) = &self.chains[chain as usize];
        let (tweak, _) = xpub
            .ckd_pub_tweak(ChildNumber::Normal { index })
            .expect("unhardened derivation succeeds");
        xpriv
            .private_key
            .add_tweak(&tweak.into())
            .expect("a tweak that breaks BIP-32 has probability 2^-128")
    }
}

/// The one key of `tier`'s wallet this seed holds, derived to its chains.
fn signer_key(
    policy: &VaultPolicy,
    tier: Tier,
    master: &MasterKey,
    secp: &Secp256k1<bitcoin::secp256k1::All>,
    recovery: bool,
) -> Result<ChainKeys, SigningError> {
    let master = master.xpriv();
    let fingerprint = master.fingerprint(secp);
    let mut out = Vec::new();
    // On the recovery path a key signs with its recovery chains 2 and 3
    // (ADR 3), and only keys of that path sign.
    let wallet = policy.wallet(tier);
    let (keys, first_chain) = match (recovery, wallet.recovery()) {
        (true, Some(path)) => (path.keys(), 2),
        _ => (wallet.keys(), 0),
    };
    for id in keys {
        let origin = policy.key(id).expect("wallet keys are policy keys").xpub();
        if origin.fingerprint() != fingerprint {
            continue;
        }
        let mut account = master
            .derive_priv(secp, origin.path())
            .map_err(|_| SigningError::SeedMismatch(id.clone()))?;
        if Xpub::from_priv(secp, &account) != *origin.xpub() {
            account.private_key.non_secure_erase();
            return Err(SigningError::SeedMismatch(id.clone()));
        }
        let chain = |c: u32| {
            let xpriv = account
                .derive_priv(secp, &[ChildNumber::Normal { index: c }])
                .expect("unhardened derivation succeeds");
            (xpriv, Xpub::from_priv(secp, &xpriv))
        };
        out.push(ChainKeys {
            id: id.clone(),
            chains: [chain(first_chain), chain(first_chain + 1)],
        });
        account.private_key.non_secure_erase();
    }
    if out.len() > 1 {
        return Err(SigningError::SeveralKeysOfWallet {
            tier,
            keys: out.iter().map(|k| k.id.clone()).collect(),
        });
    }
    out.pop().ok_or(SigningError::NoKeyOfWallet {
        tier,
        fingerprint: Some(fingerprint),
    })
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
    let outcomes = inputs::sign_inputs(
        &secp,
        kind,
        unsigned_tx,
        inputs,
        &keys,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tweaked_chain_keys_equal_bip32_derivation() {
        let secp = Secp256k1::new();
        let master = Xpriv::new_master(bitcoin::Network::Regtest, &[5; 32]).unwrap();
        let account = master
            .derive_priv(&secp, &[ChildNumber::Hardened { index: 48 }])
            .unwrap();
        let chain = |c| {
            let x = account
                .derive_priv(&secp, &[ChildNumber::Normal { index: c }])
                .unwrap();
            (x, Xpub::from_priv(&secp, &x))
        };
        let keys = ChainKeys {
            id: "k".parse().unwrap(),
            chains: [chain(0), chain(1)],
        };
        for (c, i) in [(0, 0), (1, 5), (0, 99_999)] {
            let path = [
                ChildNumber::Normal { index: c },
                ChildNumber::Normal { index: i },
            ];
            assert_eq!(
                keys.at(c, i),
                account.derive_priv(&secp, &path).unwrap().private_key
            );
        }
    }
}

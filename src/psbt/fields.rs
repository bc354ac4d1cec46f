//! custodia's proprietary global PSBT fields (BIP-174 type 0xFC, prefix
//! `custodia`). Bitcoin Core and other wallets keep proprietary fields through
//! `combinepsbt`, so the policy id and approvals travel with the PSBT.
//! The byte layout is documented in `docs/psbt-fields.md`.

use bitcoin::bip32::Fingerprint;
use bitcoin::hashes::{sha256, Hash};
use bitcoin::psbt::raw::ProprietaryKey;
use bitcoin::Psbt;

use crate::audit::SignerHead;
use crate::policy::PolicyId;

/// The proprietary prefix of every custodia field.
pub const PREFIX: &[u8] = b"custodia";
/// Subtype of the policy id field: empty key data, 32-byte value.
pub const SUBTYPE_POLICY_ID: u8 = 0x00;
/// Subtype of an approval: key data = approver id (ASCII), value = movement
/// code (1 byte) ‖ BIP-340 signature (64 bytes).
pub const SUBTYPE_APPROVAL: u8 = 0x01;

/// Subtype of a signer's log head: key data = the signer's master fingerprint
/// (4 bytes) ‖ the sequence number of its `sign` log entry (8 bytes, big
/// endian), value = that entry's hash (32 bytes). Keyed by sequence number too,
/// so a second signature by the same signer adds a head, never changes one.
pub const SUBTYPE_SIGNER_HEAD: u8 = 0x02;

/// Subtype of the compact marker: empty key data, value = what a signer
/// needs to re-fill the PSBT (the format, the policy id, one hint per input
/// and output; see `docs/qr-compact.md` and [`crate::psbt::compact`]).
pub const SUBTYPE_COMPACT: u8 = 0x03;

/// The proprietary key of the compact marker.
pub fn compact_marker_key() -> ProprietaryKey {
    ProprietaryKey {
        prefix: PREFIX.to_vec(),
        subtype: SUBTYPE_COMPACT,
        key: Vec::new(),
    }
}

/// Whether the PSBT is in compact form: it carries a compact marker (any
/// field of that subtype, well-formed or not, so a damaged marker does not
/// make a stripped PSBT pass for a full one). Its derivations were stripped
/// for transport and must be re-filled from the registered policy before
/// anyone reviews it.
pub fn is_compact(psbt: &Psbt) -> bool {
    psbt.proprietary
        .keys()
        .any(|k| k.prefix == PREFIX && k.subtype == SUBTYPE_COMPACT)
}

/// The proprietary key of the policy id.
pub fn policy_id_key() -> ProprietaryKey {
    ProprietaryKey {
        prefix: PREFIX.to_vec(),
        subtype: SUBTYPE_POLICY_ID,
        key: Vec::new(),
    }
}

/// What the PSBT says about its policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyTag {
    /// No policy id field.
    Missing,
    /// A well-formed policy id.
    Present(PolicyId),
    /// A policy id field that is not 32 bytes, or one with key data.
    Malformed,
}

/// Reads the policy id the PSBT names.
pub fn policy_tag(psbt: &Psbt) -> PolicyTag {
    let mut found = PolicyTag::Missing;
    for (key, value) in &psbt.proprietary {
        if key.prefix != PREFIX || key.subtype != SUBTYPE_POLICY_ID {
            continue;
        }
        if !key.key.is_empty() {
            return PolicyTag::Malformed;
        }
        found = match <[u8; 32]>::try_from(value.as_slice()) {
            Ok(bytes) => PolicyTag::Present(PolicyId::from_bytes(bytes)),
            Err(_) => return PolicyTag::Malformed,
        };
    }
    found
}

/// A PSBT already names a different policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the PSBT already names policy {existing}, not {wanted}; create a new PSBT for this policy"
)]
pub struct OtherPolicy {
    /// The id in the PSBT.
    pub existing: String,
    /// The id asked for.
    pub wanted: PolicyId,
}

impl crate::error::Classify for OtherPolicy {
    fn exit_code(&self) -> crate::error::ExitCode {
        crate::error::ExitCode::Refused
    }
}

/// Names `id` as the PSBT's policy (the coordinator does this when it
/// proposes). Setting the same id again is a no-op; a different one is refused.
pub fn set_policy_id(psbt: &mut Psbt, id: PolicyId) -> Result<(), OtherPolicy> {
    match policy_tag(psbt) {
        PolicyTag::Present(existing) if existing == id => Ok(()),
        PolicyTag::Missing => {
            psbt.proprietary
                .insert(policy_id_key(), id.to_bytes().to_vec());
            Ok(())
        }
        PolicyTag::Present(existing) => Err(OtherPolicy {
            existing: existing.to_string(),
            wanted: id,
        }),
        PolicyTag::Malformed => Err(OtherPolicy {
            existing: "(malformed)".into(),
            wanted: id,
        }),
    }
}

fn signer_head_key(head: &SignerHead) -> ProprietaryKey {
    let mut key = head.fingerprint.to_bytes().to_vec();
    key.extend(head.seq.to_be_bytes());
    ProprietaryKey {
        prefix: PREFIX.to_vec(),
        subtype: SUBTYPE_SIGNER_HEAD,
        key,
    }
}

/// Adds a signer's log head to the PSBT.
pub fn add_signer_head(psbt: &mut Psbt, head: SignerHead) {
    psbt.proprietary
        .insert(signer_head_key(&head), head.hash.to_byte_array().to_vec());
}

/// The signer log heads the PSBT carries; malformed fields are skipped (they
/// prove nothing, and the auditor reports the heads it can read).
pub fn signer_heads(psbt: &Psbt) -> Vec<SignerHead> {
    psbt.proprietary
        .iter()
        .filter(|(k, _)| k.prefix == PREFIX && k.subtype == SUBTYPE_SIGNER_HEAD)
        .filter_map(|(k, v)| {
            let fingerprint: [u8; 4] = k.key.get(..4)?.try_into().ok()?;
            let seq: [u8; 8] = k.key.get(4..)?.try_into().ok()?;
            let hash: [u8; 32] = v.as_slice().try_into().ok()?;
            Some(SignerHead {
                fingerprint: Fingerprint::from(fingerprint),
                seq: u64::from_be_bytes(seq),
                hash: sha256::Hash::from_byte_array(hash),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::{absolute, transaction, Transaction};

    #[test]
    fn tag_round_trips_and_is_not_overwritten() {
        let tx = Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::ZERO,
            input: vec![],
            output: vec![],
        };
        let mut psbt = Psbt::from_unsigned_tx(tx).unwrap();
        assert_eq!(policy_tag(&psbt), PolicyTag::Missing);
        let id = PolicyId::from_bytes([7; 32]);
        set_policy_id(&mut psbt, id).unwrap();
        set_policy_id(&mut psbt, id).unwrap();
        assert_eq!(policy_tag(&psbt), PolicyTag::Present(id));
        assert!(set_policy_id(&mut psbt, PolicyId::from_bytes([8; 32])).is_err());
        psbt.proprietary.insert(policy_id_key(), vec![1, 2]);
        assert_eq!(policy_tag(&psbt), PolicyTag::Malformed);
    }

    #[test]
    fn signer_heads_round_trip_and_accumulate() {
        let tx = Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::ZERO,
            input: vec![],
            output: vec![],
        };
        let mut psbt = Psbt::from_unsigned_tx(tx).unwrap();
        let head = |seq| SignerHead {
            fingerprint: Fingerprint::from([1, 2, 3, 4]),
            seq,
            hash: sha256::Hash::hash(&[seq as u8]),
        };
        add_signer_head(&mut psbt, head(7));
        add_signer_head(&mut psbt, head(9));
        assert_eq!(signer_heads(&psbt), vec![head(7), head(9)]);
    }
}

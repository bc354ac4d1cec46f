//! custodia's proprietary global PSBT fields (BIP-174 type 0xFC, prefix
//! `custodia`). Bitcoin Core and other wallets keep proprietary fields through
//! `combinepsbt`, so the policy id and approvals travel with the PSBT.
//! The byte layout is documented in `docs/psbt-fields.md`.

use bitcoin::psbt::raw::ProprietaryKey;
use bitcoin::Psbt;

use crate::policy::PolicyId;

/// The proprietary prefix of every custodia field.
pub const PREFIX: &[u8] = b"custodia";
/// Subtype of the policy id field: empty key data, 32-byte value.
pub const SUBTYPE_POLICY_ID: u8 = 0x00;
/// Subtype of an approval: key data = approver id (ASCII), value = movement
/// code (1 byte) ‖ BIP-340 signature (64 bytes).
pub const SUBTYPE_APPROVAL: u8 = 0x01;

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
}

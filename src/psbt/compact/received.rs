//! A PSBT as it arrives at a program, full or compact: the one reader the
//! signer and the coordinator use, so that a compact PSBT is re-filled
//! against the policy before anything else looks at it.

use bitcoin::base64::engine::general_purpose::STANDARD;
use bitcoin::base64::Engine as _;

use super::{refill, CompactError, CompactPsbt};
use crate::policy::{PolicyId, VaultPolicy};
use crate::psbt::read::decode_any;
use crate::psbt::{Encoding, PsbtDocument};

/// A PSBT as received: full, ready to be read as a [`PsbtDocument`], or
/// compact, to be re-filled from the policy it names first.
#[derive(Debug, Clone)]
pub enum Received {
    /// A full PSBT.
    Full(PsbtDocument),
    /// A compact PSBT and the encoding it came in.
    Compact(CompactPsbt, Encoding),
}

impl Received {
    /// Reads base64 text or binary, as strictly as [`PsbtDocument`] does,
    /// parsing it once.
    pub fn from_bytes(data: &[u8]) -> Result<Received, CompactError> {
        let doc = decode_any(data)?;
        if !super::is_compact(doc.psbt()) {
            return Ok(Received::Full(doc));
        }
        let encoding = doc.encoding();
        Ok(Received::Compact(
            CompactPsbt::from_psbt(doc.psbt().clone())?,
            encoding,
        ))
    }

    /// The full PSBT: as read, or re-filled from `policy` (see [`refill`]),
    /// in the encoding it came in. `policy` is looked up only for a compact
    /// PSBT, from the id it names.
    pub fn into_document<E>(
        self,
        policy: impl FnOnce(PolicyId) -> Result<VaultPolicy, E>,
    ) -> Result<PsbtDocument, E>
    where
        E: From<CompactError>,
    {
        let (compact, encoding) = match self {
            Received::Full(doc) => return Ok(doc),
            Received::Compact(compact, encoding) => (compact, encoding),
        };
        let policy = policy(compact.policy_id())?;
        let bytes = refill(&compact, &policy)?.serialize();
        let data = match encoding {
            Encoding::Binary => bytes,
            Encoding::Base64 => STANDARD.encode(bytes).into_bytes(),
        };
        Ok(PsbtDocument::from_bytes(&data).map_err(CompactError::from)?)
    }
}

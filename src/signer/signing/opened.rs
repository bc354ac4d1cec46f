//! A PSBT as a signer command opens it: read once (a compact one
//! re-filled), with the registered policy it names, the vault's registered
//! successor and the policy's address key table; and how the new PSBT is
//! written back in the form it came in.

use bitcoin::Psbt;

use super::session::SessionError;
use super::transfer::{encoding, prepare, read_input};
use crate::audit::now_unix;
use crate::policy::{AddressKeys, VaultPolicy};
use crate::psbt::compact::Received;
use crate::psbt::{
    policy_tag, set_policy_id, DailySpending, Encoding, PolicyTag, PsbtDocument, ReviewBasis,
    SignatureSlot,
};
use crate::signer::cli::{PsbtInput, PsbtOutput};
use crate::signer::SignerHome;

/// A PSBT read once, and the registered policy it names.
pub(super) struct OpenedPsbt {
    pub(super) doc: PsbtDocument,
    pub(super) policy: VaultPolicy,
    /// The vault's successor policy registered here, if any: a migration
    /// may pay only its wallets.
    pub(super) successor: Option<VaultPolicy>,
    /// The policy's address key table, if this signer has one.
    pub(super) address_keys: Option<AddressKeys>,
}

impl OpenedPsbt {
    /// Reads the PSBT (`-` for stdin) and finds its registered policy. A PSBT
    /// made by another wallet (Bitcoin Core, Sparrow) names none: `given`
    /// names it, and the id is added to what is reviewed and written, so
    /// everything downstream sees it; every rule still applies. A compact
    /// PSBT is re-filled from the registered policy it names before anything
    /// else: refused (exit 2) if that policy does not re-derive it.
    ///
    /// Returns it with the PSBT that is reviewed and signed or approved: the
    /// one read, plus the policy id when `--policy-id` named it (apart, so
    /// that it moves into the review rather than being copied: at 10,000
    /// inputs a copy costs tens of milliseconds).
    pub(super) fn open(home: &SignerHome, input: &PsbtInput) -> Result<(Self, Psbt), SessionError> {
        let doc = refilled(home, input, read_input(input)?)?;
        let mut psbt = doc.psbt().clone();
        let id = match (policy_tag(&psbt), input.policy_id) {
            (PolicyTag::Present(id), Some(given)) if id != given => {
                return Err(SessionError::OtherPolicy { psbt: id, given })
            }
            (PolicyTag::Present(id), _) => id,
            (PolicyTag::Missing, Some(given)) => given,
            (PolicyTag::Missing, None) => return Err(SessionError::Untagged),
            (PolicyTag::Malformed, _) => return Err(SessionError::MalformedTag),
        };
        let policy = home
            .registered_policy(&id)?
            .ok_or(SessionError::NotRegistered(id))?;
        set_policy_id(&mut psbt, id).map_err(|_| SessionError::MalformedTag)?;
        let successor = home.registered_successor(&id)?;
        let address_keys = home.address_keys(&policy)?;
        let opened = OpenedPsbt {
            doc,
            policy,
            successor,
            address_keys,
        };
        Ok((opened, psbt))
    }

    /// What the PSBT is reviewed against.
    pub(super) fn basis(&self) -> ReviewBasis<'_> {
        ReviewBasis {
            policy: &self.policy,
            successor: self.successor.as_ref(),
            address_keys: self.address_keys.as_ref(),
        }
    }

    /// Prepares the new PSBT for `output` (see [`prepare`]).
    pub(super) fn prepare(
        &self,
        psbt: &Psbt,
        output: &PsbtOutput,
        replaced: &[SignatureSlot],
    ) -> Result<super::transfer::Prepared, SessionError> {
        prepare(output, &self.encode(psbt, output, replaced)?, &self.policy)
    }

    /// What this signer moved of the vault in the last 24 hours.
    pub(super) fn spending(&self, home: &SignerHome) -> Result<DailySpending, SessionError> {
        let entries = home.log().verify()?.entries;
        Ok(DailySpending::from_signer_log(
            &entries,
            self.policy.name(),
            now_unix(),
        )?)
    }

    /// Encodes `psbt` as read plus what was added; `replaced` names the
    /// signatures of this signer's key that replace bogus ones already there.
    pub(super) fn encode(
        &self,
        psbt: &Psbt,
        output: &PsbtOutput,
        replaced: &[SignatureSlot],
    ) -> Result<Vec<u8>, SessionError> {
        let encoding: Encoding = encoding(output, self.doc.encoding());
        Ok(self.doc.encode_replacing(psbt, encoding, replaced)?)
    }
}

/// The full PSBT of what was received: a compact one re-filled from the
/// registered policy it names (and `--policy-id`, if given, must name the
/// same).
fn refilled(
    home: &SignerHome,
    input: &PsbtInput,
    received: Received,
) -> Result<PsbtDocument, SessionError> {
    received.into_document(|id| {
        if let Some(given) = input.policy_id.filter(|given| *given != id) {
            return Err(SessionError::OtherPolicy { psbt: id, given });
        }
        home.registered_policy(&id)?
            .ok_or(SessionError::NotRegistered(id))
    })
}

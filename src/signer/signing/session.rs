//! The signer's commands on a PSBT file, for `custodia-signer review`, `sign`
//! and `approve`: find the registered policy the PSBT names, review it with the
//! day's totals from the signer's own log, and for `sign` and `approve` append
//! the log entry (durable) before the new file appears. The PSBT is read once;
//! what is reviewed is what is signed.

use std::path::Path;

use serde_json::json;

use super::{sign_event, sign_psbt, SignOutcome, SigningError};
use crate::audit::LogError;
use crate::error::{Classify, ExitCode};
use bitcoin::Psbt;

use crate::policy::{PolicyId, VaultPolicy};
use crate::psbt::approvals::{add_approval, sign_approval, ApprovalError};
use crate::psbt::{
    policy_tag, set_policy_id, Encoding, PolicyTag, PsbtDocument, PsbtError, Review, RuleId,
    SpentToday,
};
use crate::signer::{ApprovalKey, KeyStoreError, RegistryError, SignerHome, UnlockedSeed};
use crate::transport::{write_new_atomically, FileError};

/// Why a signer command on a PSBT did not complete.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The PSBT names no policy.
    #[error("the PSBT names no vault policy; have the coordinator tag it with the policy id (it does when it proposes), then review it again")]
    Untagged,
    /// `--policy-id` names another policy than the PSBT does.
    #[error("the PSBT names policy {psbt}, not {given} as given with --policy-id; check which vault this PSBT is for")]
    OtherPolicy {
        /// The id in the PSBT.
        psbt: String,
        /// The id given.
        given: String,
    },
    /// The policy id field cannot be read.
    #[error("the PSBT's custodia policy id field is malformed; export the PSBT again from the coordinator")]
    MalformedTag,
    /// The PSBT names a policy this signer has not registered.
    #[error("the PSBT names policy {0}, which this signer has not registered; register that policy (`custodia-signer register POLICY.toml`) or take the PSBT to the right signer")]
    NotRegistered(String),
    /// The policy refuses.
    #[error("refused by the vault policy ({0}); nothing was written")]
    Refused(String),
    /// The operator did not confirm.
    #[error("not confirmed; nothing was signed or written")]
    NotConfirmed,
    /// The output file exists already.
    #[error("{0} already exists; choose a new output file (the signer never overwrites files)")]
    OutputExists(String),
    /// Reading or writing the PSBT.
    #[error(transparent)]
    Psbt(#[from] PsbtError),
    /// The registry.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The signer's log.
    #[error(transparent)]
    Log(#[from] LogError),
    /// Writing the output.
    #[error(transparent)]
    File(#[from] FileError),
    /// Signing.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// Approving.
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    /// The key store.
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
}

impl Classify for SessionError {
    fn exit_code(&self) -> ExitCode {
        match self {
            SessionError::Untagged
            | SessionError::OtherPolicy { .. }
            | SessionError::NotRegistered(_)
            | SessionError::Refused(_)
            | SessionError::NotConfirmed => ExitCode::Refused,
            SessionError::MalformedTag | SessionError::OutputExists(_) => ExitCode::BadInput,
            SessionError::Psbt(e) => e.exit_code(),
            SessionError::Registry(e) => e.exit_code(),
            SessionError::Log(e) => e.exit_code(),
            SessionError::File(e) => e.exit_code(),
            SessionError::Signing(e) => e.exit_code(),
            SessionError::Approval(e) => e.exit_code(),
            SessionError::KeyStore(e) => e.exit_code(),
        }
    }
}

/// A PSBT read once, the registered policy it names, and its review.
#[derive(Debug)]
pub struct PsbtUnderReview {
    /// The PSBT as read.
    pub doc: PsbtDocument,
    /// The registered policy it names.
    pub policy: VaultPolicy,
    /// The review against it, with today's totals from the signer's log.
    pub review: Review,
    /// The PSBT that was reviewed and is signed or approved: the one read,
    /// plus the policy id when `--policy-id` named it.
    reviewed: Psbt,
}

/// What `sign` did.
#[derive(Debug, Clone)]
pub struct SignReport {
    /// What was signed.
    pub outcome: SignOutcome,
    /// The log entry's sequence number.
    pub log_seq: u64,
}

impl PsbtUnderReview {
    /// Reads the PSBT at `path` (`-` for stdin) and reviews it against the
    /// registered policy it names.
    pub fn open(home: &SignerHome, path: &Path) -> Result<Self, SessionError> {
        Self::open_for(home, path, None)
    }

    /// Like [`open`](Self::open); `given` names the registered policy for a
    /// PSBT made by another wallet (Bitcoin Core, Sparrow) that names none. The
    /// id is added to the PSBT that is reviewed and written, so everything
    /// downstream sees it; every rule still applies. A PSBT that names another
    /// policy is refused.
    pub fn open_for(
        home: &SignerHome,
        path: &Path,
        given: Option<PolicyId>,
    ) -> Result<Self, SessionError> {
        let doc = PsbtDocument::read(path)?;
        let mut reviewed = doc.psbt().clone();
        let id = match (policy_tag(&reviewed), given) {
            (PolicyTag::Present(id), Some(g)) if id != g => {
                return Err(SessionError::OtherPolicy {
                    psbt: id.to_string(),
                    given: g.to_string(),
                })
            }
            (PolicyTag::Present(id), _) => id,
            (PolicyTag::Missing, Some(g)) => g,
            (PolicyTag::Missing, None) => return Err(SessionError::Untagged),
            (PolicyTag::Malformed, _) => return Err(SessionError::MalformedTag),
        };
        let policy = home
            .registered_policy(&id)?
            .ok_or_else(|| SessionError::NotRegistered(id.to_string()))?;
        set_policy_id(&mut reviewed, id).map_err(|_| SessionError::MalformedTag)?;
        let entries = home.log().verify()?.entries;
        let spent = SpentToday::from_log(&entries, id, SpentToday::today());
        let review = Review::of(&policy, &reviewed, &spent);
        Ok(PsbtUnderReview {
            doc,
            policy,
            review,
            reviewed,
        })
    }

    /// `Ok` if a signer would sign, else the refusal naming the failing rules.
    pub fn require_passing(&self) -> Result<(), SessionError> {
        self.refuse_unless(self.review.passes())
    }

    /// `Ok` if an approver may approve: every rule but the quorum holds.
    pub fn require_approvable(&self) -> Result<(), SessionError> {
        self.refuse_unless(self.review.passes_except(RuleId::Approvals))
    }

    /// `Ok` if this signer's seed holds a key of the wallet the PSBT spends;
    /// checked before the passphrase is asked, from the public key info.
    pub fn require_key_holder(&self, home: &SignerHome) -> Result<(), SessionError> {
        let Some(tier) = self.review.source else {
            return Ok(()); // the review refuses anyway
        };
        let holdings = home.holdings(&self.policy)?;
        let wallet = self.policy.wallet(tier);
        if holdings
            .keys
            .iter()
            .any(|k| wallet.keys().iter().any(|id| id.as_str() == k.key))
        {
            return Ok(());
        }
        Err(SigningError::NoKeyOfWallet {
            tier,
            fingerprint: holdings.fingerprint.unwrap_or_else(|| "none".into()),
        }
        .into())
    }

    fn refuse_unless(&self, passes: bool) -> Result<(), SessionError> {
        if passes {
            return Ok(());
        }
        let rules: Vec<&str> = self.review.failures().map(|r| r.rule.as_str()).collect();
        Err(SessionError::Refused(format!(
            "failing rules: {}",
            rules.join(", ")
        )))
    }

    /// Signs with the unlocked seed, appends the `sign` event to the log (durable),
    /// then writes the signed PSBT to `out`, which must not exist.
    pub fn sign(
        &self,
        home: &SignerHome,
        seed: &UnlockedSeed,
        out: &Path,
        encoding: Option<Encoding>,
    ) -> Result<SignReport, SessionError> {
        self.require_passing()?;
        if out.exists() {
            return Err(SessionError::OutputExists(out.display().to_string()));
        }
        let mut psbt = self.reviewed.clone();
        let mut master = seed.master_xpriv(self.policy.network());
        let outcome = sign_psbt(&self.policy, &self.review, &mut psbt, &master);
        master.private_key.non_secure_erase();
        let outcome = outcome?;
        let bytes = self.doc.encode_replacing(
            &psbt,
            encoding.unwrap_or(self.doc.encoding()),
            &outcome.replaced_slots(),
        )?;
        let entry = home.log().append(sign_event(&self.review, &outcome))?;
        write_new_atomically(out, &bytes)?;
        Ok(SignReport {
            outcome,
            log_seq: entry.seq,
        })
    }

    /// Adds the approval of `key` for this movement, logs it, and writes the
    /// PSBT to `out`. Refused if any rule other than the approval quorum fails:
    /// an approver approves only what the signers would then sign.
    pub fn approve(
        &self,
        home: &SignerHome,
        key: &ApprovalKey,
        out: &Path,
        encoding: Option<Encoding>,
    ) -> Result<(), SessionError> {
        self.require_approvable()?;
        let movement = self
            .review
            .movement
            .expect("a review passing its other rules has a movement");
        if out.exists() {
            return Err(SessionError::OutputExists(out.display().to_string()));
        }
        let approval = sign_approval(
            &self.policy,
            self.review.txid,
            movement,
            key.id(),
            key.keypair(),
        );
        let mut psbt = self.reviewed.clone();
        add_approval(&self.policy, &mut psbt, &approval)?;
        let bytes = self
            .doc
            .encode(&psbt, encoding.unwrap_or(self.doc.encoding()))?;
        home.log().append(json!({
            "kind": "approve",
            "policy_id": self.policy.id().to_string(),
            "txid": self.review.txid.to_string(),
            "movement": movement.as_str(),
            "amount_sat": self.review.moved_sat,
            "approver": key.id().to_string(),
        }))?;
        write_new_atomically(out, &bytes)?;
        Ok(())
    }
}

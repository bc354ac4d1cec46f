//! The signer's commands on a PSBT file — `review`, `sign` and `approve` —
//! as one sequence each, in the order that keeps a key safe: read the PSBT
//! once, find the registered policy it names, review it with the last 24
//! hours from the signer's own log, refuse, check that this signer holds a
//! key, confirm, unlock, sign, judge the daily limit again under the log's
//! lock, log (durably), and only then write the new file. The program only
//! supplies the [`Prompts`]: how to show the review and ask the person.

use std::path::PathBuf;

use super::opened::OpenedPsbt;
use super::{sign_event, sign_psbt, SignOutcome, SigningError};
use crate::audit::{now_unix, Approved, Event, LogError};
use crate::error::{Classify, ExitCode};
use crate::policy::{ApproverId, PolicyId};
use crate::psbt::approvals::{add_approval, sign_approval, ApprovalError};
use crate::psbt::{
    add_signer_head, ApprovablePsbt, ApprovalOutlook, DailySpending, PsbtError, Refusal, Review,
    SignablePsbt, SignerHead,
};
use crate::signer::cli::{PsbtInput, PsbtOutput};
use crate::signer::{KeyStoreError, Passphrase, RegistryError, SignerHome};
use crate::transport::qr::QrError;
use crate::transport::FileError;

use super::transfer::check_output;
use crate::psbt::compact::CompactError;
use crate::signer::selftest::{self, SelfTestFailed};

/// Why a signer command on a PSBT did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The PSBT names no policy.
    #[error("the PSBT names no vault policy; have the coordinator tag it with the policy id (it does when it proposes), or name a registered policy with --policy-id, then review it again")]
    Untagged,
    /// `--policy-id` names another policy than the PSBT does.
    #[error("the PSBT names policy {psbt}, not {given} as given with --policy-id; check which vault this PSBT is for")]
    OtherPolicy {
        /// The id in the PSBT.
        psbt: PolicyId,
        /// The id given.
        given: PolicyId,
    },
    /// The policy id field cannot be read.
    #[error("the PSBT's custodia policy id field is malformed; export the PSBT again from the coordinator")]
    MalformedTag,
    /// The PSBT names a policy this signer has not registered.
    #[error("the PSBT names policy {0}, which this signer has not registered; register that policy (`custodia-signer register POLICY.toml`) or take the PSBT to the right signer")]
    NotRegistered(PolicyId),
    /// The policy refuses.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The operator did not confirm.
    #[error("not confirmed; nothing was signed or written")]
    NotConfirmed,
    /// The output file exists already.
    #[error("{0} already exists; choose a new output file (the signer never overwrites files)")]
    OutputExists(PathBuf),
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
    /// Reading or writing QR frames.
    #[error(transparent)]
    Qr(#[from] QrError),
    /// A compact PSBT that the registered policy does not re-fill, or a
    /// PSBT that cannot be made compact.
    #[error(transparent)]
    Compact(#[from] CompactError),
    /// The known-answer self-test failed: no key is touched.
    #[error(transparent)]
    SelfTest(#[from] SelfTestFailed),
    /// Asking the person failed (no terminal, closed input).
    #[error("cannot ask for confirmation: {0}; give --yes for scripted use")]
    Prompt(#[source] std::io::Error),
}

impl Classify for SessionError {
    fn exit_code(&self) -> ExitCode {
        match self {
            SessionError::Untagged
            | SessionError::OtherPolicy { .. }
            | SessionError::NotRegistered(_)
            | SessionError::NotConfirmed => ExitCode::Refused,
            SessionError::Refused(e) => e.exit_code(),
            SessionError::MalformedTag
            | SessionError::OutputExists(_)
            | SessionError::Prompt(_) => ExitCode::BadInput,
            SessionError::Psbt(e) => e.exit_code(),
            SessionError::Registry(e) => e.exit_code(),
            SessionError::Log(e) => e.exit_code(),
            SessionError::File(e) => e.exit_code(),
            SessionError::Signing(e) => e.exit_code(),
            SessionError::Approval(e) => e.exit_code(),
            SessionError::KeyStore(e) => e.exit_code(),
            SessionError::Qr(e) => e.exit_code(),
            SessionError::Compact(e) => e.exit_code(),
            SessionError::SelfTest(e) => e.exit_code(),
        }
    }
}

/// What the program supplies to a session: how to show the review and ask
/// the person in front of the laptop.
pub trait Prompts {
    /// Shows the summary of the review, before anything is decided: a key
    /// holder's ends in whether it would sign, an approver's in what the
    /// approval adds.
    fn show(&mut self, summary: &str);
    /// Tells a result as the sequence goes (what a registration changes).
    fn inform(&mut self, text: &str);
    /// Asks a yes/no question; only a yes goes on.
    fn confirm(&mut self, question: &str) -> std::io::Result<bool>;
    /// The passphrase of the seed or approval key.
    fn passphrase(&mut self) -> Result<Passphrase, KeyStoreError>;
}

/// What `sign` did.
#[derive(Debug, Clone)]
pub struct SignReport {
    /// What was signed.
    pub outcome: SignOutcome,
    /// The signer's log head after the signature, also written into the PSBT.
    pub head: SignerHead,
    /// The file (or directory of QR frames) written.
    pub output: PathBuf,
}

/// What `approve` did.
#[derive(Debug, Clone)]
pub struct ApproveReport {
    /// Who approved.
    pub approver: ApproverId,
    /// The file written.
    pub output: PathBuf,
}

/// `review`: the review of the PSBT against the registered policy it names.
/// It is refused (exit 1) by [`require_passing`] after it is shown.
pub fn review(home: &SignerHome, input: &PsbtInput) -> Result<Review, SessionError> {
    let (opened, psbt) = OpenedPsbt::open(home, input)?;
    let spending = opened.spending(home)?;
    Ok(Review::against(opened.basis(), &psbt, &spending))
}

/// `Ok` if a signer would sign what `review` judged, else the refusal.
pub fn require_passing(review: Review) -> Result<(), SessionError> {
    match review.passes() {
        true => Ok(()),
        false => Err(Refusal::of(review).into()),
    }
}

fn confirm(
    prompts: &mut impl Prompts,
    output: &PsbtOutput,
    question: &str,
) -> Result<(), SessionError> {
    check_output(output)?;
    if !output.yes && !prompts.confirm(question).map_err(SessionError::Prompt)? {
        return Err(SessionError::NotConfirmed);
    }
    Ok(())
}

/// `sign`: the whole sequence, from reading `input` to writing `output`.
pub fn sign(
    home: &SignerHome,
    input: &PsbtInput,
    output: &PsbtOutput,
    prompts: &mut impl Prompts,
) -> Result<SignReport, SessionError> {
    selftest::require()?;
    let (opened, psbt) = OpenedPsbt::open(home, input)?;
    let checked = SignablePsbt::check_against(opened.basis(), psbt, &opened.spending(home)?);
    prompts.show(&match &checked {
        Ok(signable) => signable.review().to_text(),
        Err(refusal) => refusal.to_text(),
    });
    let signable = checked?;
    let network = require_key_holder(home, &signable)?;
    confirm(prompts, output, "Sign this transaction?")?;

    let seed = home.unlock_seed(&prompts.passphrase()?)?;
    let master = seed.master_key(network);
    let signed = sign_psbt(&signable, &master)?;
    drop(master);
    let replaced = signed.outcome.replaced_slots();

    // Judge the daily limit again on the log as it is now, and record the
    // signature before any other session may: two sessions at once cannot
    // both count the same earlier total.
    let event_log = home.log();
    let mut log = event_log.lock()?;
    let spending = DailySpending::from_signer_log(
        &log.verified().entries,
        signable.policy().name(),
        now_unix(),
    )?;
    let review = signable.recheck(&spending)?;
    let fingerprint = seed.fingerprint();
    // The entry is sealed first, because the signed PSBT carries its hash;
    // it is written only once the PSBT is ready to be renamed into place,
    // so that an output that cannot be written leaves no entry behind.
    let entry = log.seal(&sign_event(&review, &signed.outcome, fingerprint))?;
    let head = SignerHead {
        fingerprint,
        seq: entry.seq,
        hash: entry.hash.parse().map_err(|_| LogError::BadEvent)?,
    };
    let mut psbt = signed.psbt;
    add_signer_head(&mut psbt, head);
    let prepared = opened.prepare(&psbt, output, &replaced)?;
    log.write(entry)?;
    let written = prepared.commit()?;
    Ok(SignReport {
        outcome: signed.outcome,
        head,
        output: written,
    })
}

/// Refuses before the passphrase is asked when this signer's seed is for
/// another network than the policy, or holds no key of the wallet the PSBT
/// spends (from the public key info). Returns the seed's network, which the
/// master key is derived for.
fn require_key_holder(
    home: &SignerHome,
    signable: &SignablePsbt,
) -> Result<bitcoin::Network, SessionError> {
    let policy = signable.policy();
    let info = home.key_info()?;
    if let Some(seed) = info.as_ref().map(|i| i.network()) {
        if seed != policy.network() {
            return Err(SigningError::OtherNetwork {
                seed,
                policy: policy.network(),
            }
            .into());
        }
    }
    let tier = signable.tier();
    let holdings = home.holdings(policy)?;
    let wallet = policy.wallet(tier);
    let keys = match (signable.review().recovery(), wallet.recovery()) {
        (true, Some(path)) => path.keys(),
        _ => wallet.keys(),
    };
    if holdings.keys.iter().any(|k| keys.contains(&k.key)) {
        return Ok(policy.network());
    }
    let fingerprint = info.map(|info| info.master_fingerprint());
    Err(SigningError::NoKeyOfWallet { tier, fingerprint }.into())
}

/// `approve`: adds the approval of `approver` for this movement, logs it,
/// and writes the PSBT to `output`. Refused if any rule other than the
/// approval quorum fails: an approver approves only what the key holders
/// would then sign.
pub fn approve(
    home: &SignerHome,
    input: &PsbtInput,
    approver: &ApproverId,
    output: &PsbtOutput,
    prompts: &mut impl Prompts,
) -> Result<ApproveReport, SessionError> {
    selftest::require()?;
    let (opened, psbt) = OpenedPsbt::open(home, input)?;
    let checked = ApprovablePsbt::check_against(opened.basis(), psbt, &opened.spending(home)?);
    prompts.show(&match &checked {
        Ok(approvable) => ApprovalOutlook::of(approvable, approver).to_text(approvable),
        Err(refusal) => refusal.to_text(),
    });
    let approvable = checked?;
    confirm(prompts, output, "Approve this movement?")?;

    let key = home.unlock_approver(approver, &prompts.passphrase()?)?;
    let policy = approvable.policy();
    let review = approvable.review();
    let approval = sign_approval(
        policy,
        review.txid(),
        approvable.movement(),
        key.id(),
        key.keypair(),
    );
    let mut psbt = approvable.psbt().clone();
    add_approval(policy, &mut psbt, &approval)?;
    let prepared = opened.prepare(&psbt, output, &[])?;
    home.log().append(&Event::Approve(Approved {
        policy_id: policy.id(),
        vault: policy.name().to_owned(),
        txid: review.txid(),
        movement: approvable.movement(),
        amount: review.moved(),
        approver: key.id().clone(),
        online_interfaces: crate::signer::online::interfaces_up(),
    }))?;
    let written = prepared.commit()?;
    Ok(ApproveReport {
        approver: key.id().clone(),
        output: written,
    })
}

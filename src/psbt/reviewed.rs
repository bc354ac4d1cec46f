//! A PSBT whose review passed, as a type: the signer signs only a
//! [`SignablePsbt`] and an approver approves only an [`ApprovablePsbt`], and
//! the only way to either is a review of that very PSBT that passes. No
//! caller can sign an unreviewed PSBT, a PSBT changed after its review, or
//! one whose review it edited.

use bitcoin::{Psbt, PublicKey, TxOut};
use miniscript::Descriptor;

use super::daily::DailySpending;
use super::derive::VaultPath;
use super::review::Review;
use super::reviewer::ReviewBasis;
use crate::error::{Classify, ExitCode};
use crate::policy::rules::Movement;
use crate::policy::rules::RuleId;
use crate::policy::{Tier, VaultPolicy};

/// Why a PSBT may not be signed or approved: its review, in which the rules
/// named by [`Refusal::rules`] fail.
#[derive(Debug, Clone, thiserror::Error)]
#[error("refused by the vault policy; failing rules: {}; nothing was written", self.rule_names())]
pub struct Refusal {
    review: Box<Review>,
    except: Option<RuleId>,
}

impl Refusal {
    /// The refusal of a review that does not pass.
    pub(crate) fn of(review: Review) -> Self {
        Refusal::new(review, None)
    }

    fn new(review: Review, except: Option<RuleId>) -> Self {
        Refusal {
            review: Box::new(review),
            except,
        }
    }

    /// The rules that fail (for an approver, other than the approval quorum).
    pub fn rules(&self) -> Vec<RuleId> {
        self.review
            .failures()
            .map(|c| c.rule)
            .filter(|r| Some(*r) != self.except)
            .collect()
    }

    /// The review that refused.
    pub fn review(&self) -> &Review {
        &self.review
    }

    /// Whether an approver was refused (the approval quorum is then not
    /// among the reasons).
    pub(crate) fn is_for_approver(&self) -> bool {
        self.except == Some(RuleId::Approvals)
    }

    fn rule_names(&self) -> String {
        let names: Vec<&str> = self.rules().into_iter().map(RuleId::as_str).collect();
        names.join(", ")
    }
}

impl Classify for Refusal {
    fn exit_code(&self) -> ExitCode {
        ExitCode::Refused
    }
}

/// One input of a signable PSBT: the proven output it spends and, for a
/// vault input, where in the vault it is and its descriptor rebuilt from the
/// policy (`None` for the challenge of a proof of control, never signed).
#[derive(Debug, Clone)]
pub(crate) struct SignableInput {
    pub(crate) vault: Option<(VaultPath, Descriptor<PublicKey>)>,
    pub(crate) spent: TxOut,
}

/// A PSBT whose review passes every rule, with that review.
#[derive(Debug, Clone)]
pub struct SignablePsbt {
    policy: VaultPolicy,
    psbt: Psbt,
    review: Review,
    tier: Tier,
    inputs: Vec<SignableInput>,
}

impl SignablePsbt {
    /// Reviews `psbt` against `policy` with what was moved in the 24 hours
    /// before; a PSBT that passes every rule becomes signable.
    pub fn check(
        policy: &VaultPolicy,
        psbt: Psbt,
        spending: &DailySpending,
    ) -> Result<SignablePsbt, Refusal> {
        SignablePsbt::check_against(ReviewBasis::of(policy), psbt, spending)
    }

    /// [`SignablePsbt::check`] against all a signer holds of the vault: its
    /// registered successor policy, so that a migration to its wallets can
    /// pass, and the policy's address key table.
    pub fn check_against(
        basis: ReviewBasis<'_>,
        psbt: Psbt,
        spending: &DailySpending,
    ) -> Result<SignablePsbt, Refusal> {
        let policy = basis.policy;
        let review = Review::against(basis, &psbt, spending);
        if !review.passes() {
            return Err(Refusal::new(review, None));
        }
        // A passing review owns and proves every input but a proof's
        // challenge, from one wallet; the `None` arms cannot be reached, and
        // refuse if they ever were.
        let inputs: Option<Vec<SignableInput>> = review
            .inputs()
            .iter()
            .map(|i| {
                let vault = match i.challenge {
                    true => None,
                    false => Some((i.owner?, i.descriptor.clone()?)),
                };
                Some(SignableInput {
                    vault,
                    spent: i.spent.clone()?,
                })
            })
            .collect();
        match (review.source(), inputs) {
            (Some(tier), Some(inputs)) => Ok(SignablePsbt {
                policy: policy.clone(),
                psbt,
                review,
                tier,
                inputs,
            }),
            _ => Err(Refusal::new(review, None)),
        }
    }

    /// The policy it was reviewed against.
    pub fn policy(&self) -> &VaultPolicy {
        &self.policy
    }

    /// The PSBT exactly as reviewed.
    pub fn psbt(&self) -> &Psbt {
        &self.psbt
    }

    /// Its review.
    pub fn review(&self) -> &Review {
        &self.review
    }

    /// The wallet every input comes from.
    pub fn tier(&self) -> Tier {
        self.tier
    }

    pub(crate) fn inputs(&self) -> &[SignableInput] {
        &self.inputs
    }

    /// Judges the daily limit again on `spending` (the signer's log as it is
    /// just before the signature is recorded) and returns the review to
    /// record, or the refusal when another signature meanwhile used the room.
    pub fn recheck(&self, spending: &DailySpending) -> Result<Review, Refusal> {
        let review = self.review.with_spending(&self.policy, spending);
        match review.passes() {
            true => Ok(review),
            false => Err(Refusal::new(review, None)),
        }
    }
}

/// A PSBT whose review passes every rule but the approval quorum, which
/// approvals exist to complete: an approver approves only what the key
/// holders would then sign.
#[derive(Debug, Clone)]
pub struct ApprovablePsbt {
    policy: VaultPolicy,
    psbt: Psbt,
    review: Review,
    movement: Movement,
}

impl ApprovablePsbt {
    /// Reviews `psbt` against `policy`; refused when any rule but the
    /// approval quorum fails.
    pub fn check(
        policy: &VaultPolicy,
        psbt: Psbt,
        spending: &DailySpending,
    ) -> Result<ApprovablePsbt, Refusal> {
        ApprovablePsbt::check_against(ReviewBasis::of(policy), psbt, spending)
    }

    /// [`ApprovablePsbt::check`], against all a signer holds of the vault
    /// (see [`SignablePsbt::check_against`]).
    pub fn check_against(
        basis: ReviewBasis<'_>,
        psbt: Psbt,
        spending: &DailySpending,
    ) -> Result<ApprovablePsbt, Refusal> {
        let policy = basis.policy;
        let review = Review::against(basis, &psbt, spending);
        match review.movement() {
            Some(movement) if review.passes_except(RuleId::Approvals) => Ok(ApprovablePsbt {
                policy: policy.clone(),
                psbt,
                review,
                movement,
            }),
            _ => Err(Refusal::new(review, Some(RuleId::Approvals))),
        }
    }

    /// The policy it was reviewed against.
    pub fn policy(&self) -> &VaultPolicy {
        &self.policy
    }

    /// The PSBT exactly as reviewed.
    pub fn psbt(&self) -> &Psbt {
        &self.psbt
    }

    /// Its review.
    pub fn review(&self) -> &Review {
        &self.review
    }

    /// The movement approved.
    pub fn movement(&self) -> Movement {
        self.movement
    }
}

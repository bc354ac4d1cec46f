//! PSBTs: strict reading, review against the vault policy, approvals.
//!
//! The signer and the coordinator use the same code, so both apply the same
//! rules:
//!
//! ```no_run
//! # fn demo(policy: &custodia::policy::VaultPolicy) -> Result<(), Box<dyn std::error::Error>> {
//! use custodia::psbt::{DailySpending, LimitScope, PsbtDocument, Review};
//! let doc = PsbtDocument::read(std::path::Path::new("transfer.psbt"))?;
//! let spent = DailySpending::empty(LimitScope::Wallet, custodia::audit::now_unix());
//! let review = Review::of(policy, doc.psbt(), &spent);
//! println!("{}", review.to_text());
//! # Ok(()) }
//! ```
//!
//! - [`read`]: base64 or binary, v0 or v2 (BIP-370), parsed strictly, written
//!   back in the same version with only the added fields.
//! - [`fields`]: the proprietary `custodia` fields (policy id, approvals).
//! - [`compact`]: stripping what a signer re-derives from the policy (for
//!   fewer QR frames) and re-filling it, byte for byte, before review.
//! - [`approvals`]: the approval digest, adding approvals, counting them.
//! - [`proof`]: proofs of control (BIP-127 style): a challenge input no
//!   transaction can spend, signed with the vault's coins.
//! - [`Review`]: every input and output classified by re-derivation, and
//!   every rule judged ([`rules`]).
//! - [`SignablePsbt`], [`ApprovablePsbt`]: what a passing review turns into,
//!   the only things signing and approving take.

mod anomalies;
pub mod approvals;
mod classify;
pub mod compact;
mod daily;
mod derive;
mod error;
pub mod fields;
mod judge;
mod outlook;
pub mod proof;
mod raw;
pub mod read;
mod review;
mod review_text;
mod reviewed;
mod reviewer;
mod signature_slot;
mod v2;

pub use crate::audit::SignerHead;
pub use crate::policy::rules::Movement;
pub use crate::policy::rules::{allowance, counted_amount, daily_limit, LimitScope, WINDOW_SECS};
pub use crate::policy::rules::{RuleCheck, RuleId};
pub use approvals::{add_approval, approval_status, read_approvals, Approval, ApprovalStatus};
pub use classify::{Destination, Finding, InputReview, OutputReview};
pub use daily::{CountedMovement, DailySpending};
pub use derive::VaultPath;
pub use error::PsbtError;
pub use fields::{add_signer_head, policy_tag, set_policy_id, signer_heads, PolicyTag};
pub use outlook::ApprovalOutlook;
pub use read::{Encoding, PsbtDocument, PsbtVersion};
pub use review::{btc, Review};
pub use reviewed::{ApprovablePsbt, Refusal, SignablePsbt};
pub use reviewer::ReviewBasis;
pub use signature_slot::SignatureSlot;

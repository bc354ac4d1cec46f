//! PSBTs: strict reading, review against the vault policy, approvals.
//!
//! The signer and the coordinator use the same code, so both apply the same
//! rules:
//!
//! ```no_run
//! # fn demo(policy: &custodia::policy::VaultPolicy) -> Result<(), Box<dyn std::error::Error>> {
//! use custodia::psbt::{PsbtDocument, Review, SpentToday};
//! let doc = PsbtDocument::read(std::path::Path::new("transfer.psbt"))?;
//! let review = Review::of(policy, doc.psbt(), &SpentToday::empty(SpentToday::today()));
//! println!("{}", review.to_text());
//! # Ok(()) }
//! ```
//!
//! - [`read`]: base64 or binary, v0 or v2 (BIP-370), parsed strictly, written
//!   back in the same version with only the added fields.
//! - [`fields`]: the proprietary `custodia` fields (policy id, approvals).
//! - [`approvals`]: the approval digest, adding approvals, counting them.
//! - [`Review`]: every input and output classified by re-derivation, and
//!   every rule judged ([`rules`]).

mod anomalies;
pub mod approvals;
mod classify;
mod daily;
mod derive;
mod error;
pub mod fields;
mod movement;
mod raw;
pub mod read;
mod review;
pub mod rules;
mod v2;

pub use approvals::{add_approval, approval_status, read_approvals, Approval, ApprovalStatus};
pub use classify::{Destination, Finding, InputReview, OutputReview, VaultPath, MAX_INDEX};
pub use daily::{SpentToday, SIGN_EVENT};
pub use error::PsbtError;
pub use fields::{policy_tag, set_policy_id, PolicyTag};
pub use movement::Movement;
pub use read::{Encoding, PsbtDocument, PsbtVersion, SignatureSlot};
pub use review::{btc, Review};
pub use rules::{RuleCheck, RuleId};

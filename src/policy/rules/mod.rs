//! Every rule of the vault policy, one file per family. Each family holds
//! its part of the policy and the check that the signer's review, the
//! approver, the coordinator's proposals and the auditor all call:
//!
//! | family | file | checks |
//! |---|---|---|
//! | kinds of movement | `movement.rs` | [`Movement::of`], [`Movement::needs_approvals`] |
//! | tiers and destinations | `destinations.rs` | [`check_destinations`], [`PayoutRule::allows`] |
//! | approvals | `approvals.rs` | [`check_approvals`], [`ColdToHotRule::quorum_met`] |
//! | amounts and daily limits | `limits.rs` | [`check_amount`], [`check_daily`], [`counted_amount`], [`allowance`] |
//! | fees | `fees.rs` | [`check_fee`], [`check_fee_rate`] |
//! | cold ratio | `ratio.rs` | [`RatioRule::cold_share_ok`] |
//! | address range | `addresses.rs` | [`check_address_range`] |
//! | policy change | `policy_change.rs` | [`PolicyChangeRule::quorum_met`], its waiting blocks |
//!
//! Rules about the PSBT itself rather than the policy (that it names the
//! policy, proves its inputs, claims no false change) are judged in
//! `psbt::judge`; `verdict.rs` names every rule.

mod addresses;
mod approvals;
mod destinations;
mod fees;
mod limits;
mod movement;
mod policy_change;
mod ratio;
mod verdict;

pub use addresses::{check_address_range, AddressRule, VaultAddressUse};
pub use approvals::{check_approvals, ColdToHotRule};
pub use destinations::{check_destinations, OutsidePayment, PayoutDestinations, PayoutRule};
pub use fees::{check_fee, check_fee_rate, FeeRule};
pub use limits::{
    allowance, check_amount, check_daily, counted_amount, daily_limit, LimitScope, WINDOW_SECS,
};
pub use movement::Movement;
pub use policy_change::PolicyChangeRule;
pub use ratio::{percent, RatioRule};
pub(crate) use verdict::judge;
pub use verdict::{RuleCheck, RuleId};

/// All rules of a vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub(crate) cold_to_hot: ColdToHotRule,
    pub(crate) payouts: PayoutRule,
    pub(crate) fees: FeeRule,
    pub(crate) ratio: RatioRule,
    pub(crate) addresses: AddressRule,
    pub(crate) policy_change: Option<PolicyChangeRule>,
}

impl Rules {
    /// Rules for moving funds out of cold storage.
    pub fn cold_to_hot(&self) -> &ColdToHotRule {
        &self.cold_to_hot
    }
    /// Rules for paying outside addresses from hot.
    pub fn payouts(&self) -> &PayoutRule {
        &self.payouts
    }
    /// Fee caps.
    pub fn fees(&self) -> &FeeRule {
        &self.fees
    }
    /// Cold ratio.
    pub fn ratio(&self) -> &RatioRule {
        &self.ratio
    }
    /// The range of address indexes the vault uses.
    pub fn addresses(&self) -> &AddressRule {
        &self.addresses
    }
    /// What a change of this policy needs, if the policy governs its
    /// changes (`[rules.policy_change]`); without it a key holder's
    /// `register --replace` alone replaces it.
    pub fn policy_change(&self) -> Option<&PolicyChangeRule> {
        self.policy_change.as_ref()
    }
}

//! The range of address indexes the vault uses.

use crate::policy::Tier;

use super::verdict::{judge, RuleCheck, RuleId};

/// The range of address indexes the vault uses, on the receive and the
/// change chain of both wallets.
///
/// One number binds all three programs: the signer refuses a PSBT that
/// spends from or pays to an index above it, and the coordinator and the
/// auditor always watch every index up to it. So no signed transaction can
/// put funds where balances and the cold ratio do not look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressRule {
    pub(crate) max_index: u32,
}

impl AddressRule {
    /// `max_index` when the policy does not set one.
    pub const DEFAULT_MAX_INDEX: u32 = 1_000;
    /// The largest `max_index` a policy may set: every program derives every
    /// script up to it, on two chains of two wallets.
    pub const MAX_INDEX_CEILING: u32 = 100_000;

    /// Highest address index used (inclusive).
    pub fn max_index(&self) -> u32 {
        self.max_index
    }
    /// Whether `index` lies in the vault's range.
    pub fn contains(&self, index: u32) -> bool {
        index <= self.max_index
    }
}

/// A vault address a transaction spends from or pays to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultAddressUse {
    /// `input 3`, `output 1`: where in the transaction.
    pub place: String,
    /// The wallet.
    pub tier: Tier,
    /// Its index on its chain.
    pub index: u32,
}

/// The `address-range` rule. Funds beyond the policy's `max_index` would be
/// signed into place yet missing from the coordinator's balances, the cold
/// ratio and the audit, which all watch up to that index and no further.
pub fn check_address_range(range: &AddressRule, uses: &[VaultAddressUse]) -> RuleCheck {
    let rule = RuleId::AddressRange;
    let beyond: Vec<String> = uses
        .iter()
        .filter(|u| !range.contains(u.index))
        .map(|u| format!("{} is {} index {}", u.place, u.tier, u.index))
        .collect();
    if beyond.is_empty() {
        return judge(
            rule,
            true,
            format!(
                "every vault address is at index {} or below",
                range.max_index
            ),
        );
    }
    judge(
        rule,
        false,
        format!(
            "{}, beyond the policy's max_index {}: nobody watches funds there; have the coordinator use an address in range, or adopt a policy with a higher max_index",
            beyond.join("; "),
            range.max_index
        ),
    )
}

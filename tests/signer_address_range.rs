//! The policy's address range: the signer refuses vault addresses beyond
//! `max_index`, where the coordinator and the auditor do not look.

mod signer_fixtures;

use custodia::policy::{Tier, VaultPolicy};
use custodia::psbt::{Review, RuleId};
use signer_fixtures::*;

// ---------- the address range (gap 5) ----------

/// The policy's highest address index: nothing beyond it is watched.
fn max_index(policy: &VaultPolicy) -> u32 {
    policy.rules().addresses().max_index()
}

#[test]
fn change_beyond_the_policys_max_index_is_refused() {
    let policy = policy("regtest-exchange");
    let max = max_index(&policy);
    let payout = |change: u32| {
        spend(
            &policy,
            &[(at(Tier::Hot, 0, 0), sat(BTC))],
            &[
                (To::Address(payee(1)), sat(BTC / 2)),
                (To::Vault(at(Tier::Hot, 1, change)), sat(BTC / 2 - 10_000)),
            ],
        )
    };
    // Verified change at the last index of the range is fine …
    let r = Review::of(&policy, &payout(max), &today());
    assert!(r.passes(), "{}", r.to_text());
    // … one further would vanish from balances and the cold ratio.
    let r = assert_refused(&policy, &payout(max + 1), RuleId::AddressRange);
    assert_eq!(r.outputs()[1].owner, Some(at(Tier::Hot, 1, max + 1)));
    // Far beyond, where the coordinator and auditor never look.
    assert_refused(&policy, &payout(99_999), RuleId::AddressRange);
}

#[test]
fn a_cold_to_hot_transfer_to_a_hot_address_beyond_the_range_is_refused() {
    let policy = policy("regtest-exchange");
    let mut psbt = spend(
        &policy,
        &[(at(Tier::Cold, 0, 0), sat(3 * BTC))],
        &[
            (
                To::Vault(at(Tier::Hot, 0, max_index(&policy) + 1)),
                sat(2 * BTC),
            ),
            (To::Vault(at(Tier::Cold, 1, 0)), sat(BTC - 10_000)),
        ],
    );
    approve(&policy, &mut psbt, &["tanaka", "suzuki"]);
    let r = assert_refused(&policy, &psbt, RuleId::AddressRange);
    // The approvals were good: the address range alone refuses it.
    assert!(
        r.check(RuleId::Approvals).unwrap().passed,
        "{}",
        r.to_text()
    );
}

#[test]
fn an_input_beyond_the_policys_max_index_is_refused() {
    let policy = policy("regtest-exchange");
    let psbt = spend(
        &policy,
        &[(at(Tier::Hot, 0, max_index(&policy) + 1), sat(BTC))],
        &[(To::Address(payee(1)), sat(BTC - 5_000))],
    );
    assert_refused(&policy, &psbt, RuleId::AddressRange);
}

#[test]
fn a_policy_with_a_wider_range_signs_what_the_default_refuses() {
    let default = policy("regtest-exchange");
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/regtest-exchange.toml"),
    )
    .unwrap()
    .replace("max_index = 1000", "max_index = 5000");
    let wider = VaultPolicy::from_toml(&text).unwrap();
    assert_eq!(max_index(&wider), 5000);
    assert_ne!(
        wider.id(),
        default.id(),
        "the range is part of the policy id"
    );
    let psbt = spend(
        &wider,
        &[(at(Tier::Hot, 0, 0), sat(BTC))],
        &[
            (To::Address(payee(1)), sat(BTC / 2)),
            (To::Vault(at(Tier::Hot, 1, 4000)), sat(BTC / 2 - 10_000)),
        ],
    );
    let r = Review::of(&wider, &psbt, &today());
    assert!(r.passes(), "{}", r.to_text());
}

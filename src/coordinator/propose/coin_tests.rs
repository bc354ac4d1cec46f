//! Coin selection on the in-memory chain: a proposal spends only coins of
//! its source tier, never a coin another pending proposal reserved, and an
//! abandoned proposal gives its coins back.

use std::collections::BTreeSet;

use bitcoin::OutPoint;

use crate::coordinator::test_vault::{TestVault, BTC};
use crate::coordinator::{CoordinatorError, Proposal};
use crate::policy::Tier;

/// Proposes a 1 BTC cold→hot transfer into `name.psbt`.
fn transfer(v: &TestVault, name: &str) -> Result<Proposal, CoordinatorError> {
    v.transfer(Tier::Cold, BTC, &format!("{name}.psbt"))
}

/// The coins `p`'s PSBT spends.
fn spent(v: &TestVault, p: &Proposal) -> BTreeSet<OutPoint> {
    v.read_psbt(&p.file)
        .unsigned_tx
        .input
        .iter()
        .map(|i| i.previous_output)
        .collect()
}

#[test]
fn proposals_spend_their_own_tiers_unreserved_coins_and_abandon_frees_them() {
    let v = TestVault::new();
    let cold: BTreeSet<OutPoint> = [20, 30, 50]
        .into_iter()
        .map(|tenths| v.fund(Tier::Cold, tenths * BTC / 10))
        .collect();
    let hot = v.fund(Tier::Hot, BTC / 2);

    let mut reserved = BTreeSet::new();
    let mut proposals = Vec::new();
    for name in ["first", "second", "third"] {
        let p = transfer(&v, name).unwrap();
        let coins = spent(&v, &p);
        assert!(!coins.is_empty());
        assert!(coins.is_subset(&cold), "{name} spends a coin not of cold");
        assert!(!coins.contains(&hot));
        assert!(
            coins.is_disjoint(&reserved),
            "{name} spends a coin an earlier proposal reserved"
        );
        reserved.extend(coins);
        proposals.push(p);
    }
    assert_eq!(reserved, cold, "three transfers take the three cold coins");
    let listed: BTreeSet<OutPoint> = v
        .coordinator
        .coins(Some(Tier::Cold))
        .unwrap()
        .into_iter()
        .filter(|c| c.reserved)
        .map(|c| c.outpoint)
        .collect();
    assert_eq!(listed, cold);

    // Every cold coin is reserved: the fourth fails and says why; the hot
    // coin is not taken instead.
    match transfer(&v, "fourth").unwrap_err() {
        CoordinatorError::Build { reason, .. } => assert!(
            reason.contains("3 coin(s) of the cold wallet are reserved"),
            "{reason}"
        ),
        other => panic!("expected a build failure, got {other:?}"),
    }
    assert!(!v.file("fourth.psbt").exists());

    // Abandoning the first gives its coins back to the next proposal.
    let first = &proposals[0];
    let freed = spent(&v, first);
    assert_eq!(
        v.coordinator.abandon(&first.file).unwrap(),
        (first.txid, freed.len())
    );
    let p = transfer(&v, "fifth").unwrap();
    assert_eq!(spent(&v, &p), freed);
}

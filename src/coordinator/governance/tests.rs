use crate::audit::{Event, PolicyAnnounced};
use crate::coordinator::error::CoordinatorError;
use crate::coordinator::test_vault::TestVault;
use crate::policy::update::tests::{approval, example_text, governed, successor};
use crate::policy::update::{PolicyUpdate, UpdateError};
use crate::policy::VaultPolicy;

use crate::coordinator::change::check_change;

fn announce(v: &TestVault, old: &VaultPolicy, new: &VaultPolicy, height: u32, usable_at: u32) {
    v.coordinator
        .log(&Event::PolicyAnnounce(PolicyAnnounced {
            vault: old.name().to_owned(),
            old_policy_id: old.id(),
            new_policy_id: new.id(),
            height,
            usable_at,
            approvals: Vec::new(),
        }))
        .unwrap();
}

fn approved_update(old: &VaultPolicy, new: &VaultPolicy, who: &[&str]) -> PolicyUpdate {
    let mut u = PolicyUpdate::new(old, new).unwrap();
    for id in who {
        u.add_approval(old, approval(old, new.id(), id)).unwrap();
    }
    u
}

#[test]
fn a_governed_change_needs_approvals_an_announcement_and_the_wait() {
    let v = TestVault::new();
    let (old, new) = (governed(), successor());
    let entries = || v.coordinator.log_entries().unwrap();
    let tip = |h: u32| move || Ok(h);

    let err = check_change(&entries(), &old, &new, None, tip(200)).unwrap_err();
    assert!(matches!(err, CoordinatorError::UpdateNeeded { .. }));

    let one = approved_update(&old, &new, &["sato"]);
    let err = check_change(&entries(), &old, &new, Some(&one), tip(200)).unwrap_err();
    assert!(matches!(
        err,
        CoordinatorError::Update(UpdateError::TooFewApprovals { approvers: 1, .. })
    ));

    let two = approved_update(&old, &new, &["sato", "suzuki"]);
    let err = check_change(&entries(), &old, &new, Some(&two), tip(200)).unwrap_err();
    assert!(matches!(err, CoordinatorError::NotAnnounced { .. }));

    // Announced at 100, usable at 106 (six blocks): at 105 it waits.
    announce(&v, &old, &new, 100, 106);
    let err = check_change(&entries(), &old, &new, Some(&two), tip(105)).unwrap_err();
    assert!(matches!(
        err,
        CoordinatorError::ChangeWaiting {
            tip: 105,
            usable_at: 106,
            ..
        }
    ));
    assert!(err.to_string().contains("1 block(s) to go"), "{err}");
    let ok = check_change(&entries(), &old, &new, Some(&two), tip(106))
        .unwrap()
        .expect("an approved change");
    assert_eq!(ok.approvers().len(), 2);

    // The announcement of one change does not announce another.
    let third = VaultPolicy::from_toml(
        &(example_text()
            + "\n[rules.policy_change]\nmin_approvals = 1\nmin_departments = 1\nwait_blocks = 0\n"),
    )
    .unwrap();
    let other = approved_update(&old, &third, &["sato", "suzuki"]);
    let err = check_change(&entries(), &old, &third, Some(&other), tip(500)).unwrap_err();
    assert!(matches!(err, CoordinatorError::NotAnnounced { .. }));
}

#[test]
fn an_ungoverned_policy_changes_as_before_and_announcing_waits_nothing() {
    let v = TestVault::new();
    let old = v.coordinator.policy().clone();
    assert!(old.rules().policy_change().is_none());
    let next =
        VaultPolicy::from_toml(&old.to_toml().replace("max_index = 20", "max_index = 21")).unwrap();
    let entries = v.coordinator.log_entries().unwrap();
    assert!(
        check_change(&entries, &old, &next, None, || panic!("no node needed"))
            .unwrap()
            .is_none()
    );

    // Announcing is still possible: no approvals needed, usable at once.
    let policy = v.file("next.toml");
    std::fs::write(&policy, next.to_toml()).unwrap();
    let update = v.file("update.json");
    std::fs::write(&update, PolicyUpdate::new(&old, &next).unwrap().to_json()).unwrap();
    let a = v
        .coordinator
        .announce_policy_on(&v.chain, &policy, &update)
        .unwrap();
    assert_eq!(a.usable_at, a.height);
    let err = v
        .coordinator
        .announce_policy_on(&v.chain, &policy, &update)
        .unwrap_err();
    assert!(matches!(err, CoordinatorError::AlreadyAnnounced { .. }));
}

use super::*;
use crate::audit::event::PolicyAdopted;
use crate::audit::log::EventLog;
use crate::policy::update::tests::{approval, example_text, governed, successor};

/// A coordinator log holding `events`.
fn log_of(events: &[Event]) -> (tempfile::TempDir, VerifiedLog) {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::new(dir.path().join("events.jsonl"));
    for e in events {
        log.append(e).unwrap();
    }
    let verified = log.verify().unwrap();
    (dir, verified)
}

fn announced(old: &VaultPolicy, new: &VaultPolicy, who: &[&str], height: u32) -> Event {
    Event::PolicyAnnounce(PolicyAnnounced {
        vault: old.name().to_owned(),
        old_policy_id: old.id(),
        new_policy_id: new.id(),
        height,
        usable_at: height,
        approvals: who.iter().map(|id| approval(old, new.id(), id)).collect(),
    })
}

fn adopted(old: &VaultPolicy, new: &VaultPolicy, height: Option<u32>) -> Event {
    Event::Policy(PolicyAdopted {
        policy_id: new.id(),
        action: PolicyAction::Replaced,
        vault: new.name().to_owned(),
        network: new.network().to_string(),
        old_policy_id: Some(old.id()),
        diff: None,
        update_approvers: Vec::new(),
        height,
        devices_enforce_nothing: false,
    })
}

fn judged(events: &[Event], policies: &[VaultPolicy]) -> PolicyChanges {
    let (_dir, log) = log_of(events);
    PolicyChanges::of(policies, &log).unwrap()
}

#[test]
fn a_change_with_its_approvals_announcement_and_wait_passes() {
    let (old, new) = (governed(), successor());
    let all = [old.clone(), new.clone()];
    let c = judged(
        &[
            announced(&old, &new, &["sato", "suzuki"], 100),
            adopted(&old, &new, Some(106)),
        ],
        &all,
    );
    assert_eq!(c.changes.len(), 1);
    assert!(c.finding().is_none(), "{}", c.to_text());
    assert_eq!(c.changes[0].approvers, ["sato", "suzuki"]);
    assert_eq!(c.changes[0].governed, Some(true));
}

#[test]
fn changes_that_skipped_governance_are_findings() {
    let (old, new) = (governed(), successor());
    let all = [old.clone(), new.clone()];
    // Never announced.
    let c = judged(&[adopted(&old, &new, Some(500))], &all);
    assert!(c.changes[0].findings[0].contains("without an announcement"));
    // One approval where two departments are needed.
    let c = judged(
        &[
            announced(&old, &new, &["sato"], 100),
            adopted(&old, &new, Some(200)),
        ],
        &all,
    );
    assert!(
        c.changes[0].findings[0].contains("1 approval"),
        "{}",
        c.to_text()
    );
    // Adopted before the six waiting blocks (whatever the log's usable_at says).
    let c = judged(
        &[
            announced(&old, &new, &["sato", "tanaka"], 100),
            adopted(&old, &new, Some(105)),
        ],
        &all,
    );
    assert!(c.changes[0].findings[0].contains("before height 106"));
    assert!(matches!(c.finding(), Some(UngovernedChangeFinding(1))));
    // A forged approval: signed for another successor.
    let mut forged = announced(&old, &new, &["sato", "tanaka"], 100);
    if let Event::PolicyAnnounce(a) = &mut forged {
        a.approvals[1] = approval(&old, old.id(), "tanaka");
    }
    let c = judged(&[forged, adopted(&old, &new, Some(200))], &all);
    assert!(
        c.changes[0].findings[0].contains("tanaka"),
        "{}",
        c.to_text()
    );
    // Without the policies it cannot be judged, and says so.
    let c = judged(
        &[adopted(&old, &new, Some(200))],
        std::slice::from_ref(&new),
    );
    assert!(c.changes[0].findings[0].contains("cannot be checked"));
}

#[test]
fn an_ungoverned_change_is_listed_without_a_finding() {
    let old = VaultPolicy::from_toml(&example_text()).unwrap();
    let new = governed();
    let c = judged(&[adopted(&old, &new, None)], &[old.clone(), new.clone()]);
    assert_eq!(c.changes[0].governed, Some(false));
    assert!(c.finding().is_none());
    assert!(c.to_text().contains("not governed"));
}

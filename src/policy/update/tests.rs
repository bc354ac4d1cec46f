use bitcoin::hashes::{sha256, Hash};
use bitcoin::key::Keypair;
use bitcoin::secp256k1::{Message, Secp256k1};

use super::*;

/// The example vault, governed: 2 approvals from 2 departments, 6 blocks.
const GOVERNANCE: &str =
    "\n[rules.policy_change]\nmin_approvals = 2\nmin_departments = 2\nwait_blocks = 6\n";
/// A third allowlisted address.
const ADDED: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

pub(crate) fn example_text() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policies/regtest-exchange.toml"
    ))
    .unwrap()
}

pub(crate) fn governed() -> VaultPolicy {
    VaultPolicy::from_toml(&(example_text() + GOVERNANCE)).unwrap()
}

/// The governed policy with one more allowlisted address.
pub(crate) fn successor() -> VaultPolicy {
    let text = example_text().replace(
        "allowlist = [\n",
        &format!("allowlist = [\n    \"{ADDED}\",\n"),
    );
    VaultPolicy::from_toml(&(text + GOVERNANCE)).unwrap()
}

fn keypair(id: &str) -> Keypair {
    let secret = sha256::Hash::hash(format!("custodia test-only approver {id}").as_bytes());
    Keypair::from_seckey_slice(&Secp256k1::new(), secret.as_byte_array()).unwrap()
}

pub(crate) fn approval(old: &VaultPolicy, new: PolicyId, id: &str) -> UpdateApproval {
    let approver: ApproverId = id.parse().unwrap();
    let digest = update_digest(old, new, &approver);
    UpdateApproval {
        signature: Secp256k1::new().sign_schnorr(&Message::from_digest(digest), &keypair(id)),
        approver,
    }
}

#[test]
fn the_rule_parses_and_keeps_older_policy_ids() {
    let plain = VaultPolicy::from_toml(&example_text()).unwrap();
    assert!(plain.rules().policy_change().is_none());
    assert!(!plain.to_toml().contains("policy_change"));
    let g = governed();
    let rule = g.rules().policy_change().unwrap();
    assert_eq!(
        (
            rule.min_approvals(),
            rule.min_departments(),
            rule.wait_blocks()
        ),
        (2, 2, 6)
    );
    assert_ne!(g.id(), plain.id());
    assert_eq!(VaultPolicy::from_toml(&g.to_toml()).unwrap().id(), g.id());

    for (bad, field) in [
        (
            "min_approvals = 9\nmin_departments = 1\nwait_blocks = 6",
            "min_approvals",
        ),
        (
            "min_approvals = 2\nmin_departments = 4\nwait_blocks = 6",
            "min_departments",
        ),
        (
            "min_approvals = 2\nmin_departments = 2\nwait_blocks = -1",
            "wait_blocks",
        ),
        (
            "min_approvals = 2\nmin_departments = 2\nwait_blocks = 99999",
            "wait_blocks",
        ),
    ] {
        let text = format!("{}\n[rules.policy_change]\n{bad}\n", example_text());
        let err = VaultPolicy::from_toml(&text).unwrap_err();
        assert!(err.to_string().contains(field), "{bad}: {err}");
    }
}

#[test]
fn an_update_needs_the_old_policys_quorum() {
    let (old, new) = (governed(), successor());
    let mut update = PolicyUpdate::new(&old, &new).unwrap();
    assert!(matches!(
        update.approved(&old, &new),
        Err(UpdateError::TooFewApprovals { approvers: 0, .. })
    ));
    update
        .add_approval(&old, approval(&old, new.id(), "sato"))
        .unwrap();
    // Two approvers of one department are one department.
    update
        .add_approval(&old, approval(&old, new.id(), "ito"))
        .unwrap();
    assert!(matches!(
        update.approved(&old, &new),
        Err(UpdateError::TooFewApprovals {
            approvers: 2,
            departments: 1,
            ..
        })
    ));
    update
        .add_approval(&old, approval(&old, new.id(), "suzuki"))
        .unwrap();
    let ok = update.approved(&old, &new).unwrap();
    assert_eq!(ok.approvers().len(), 3);
    assert_eq!(ok.wait_blocks(), 6);

    // The file round-trips, and stays approved.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("update.json");
    std::fs::write(&path, update.to_json()).unwrap();
    let read = PolicyUpdate::read(&path).unwrap();
    assert_eq!(read, update);
    assert!(read.approved(&old, &new).is_ok());
}

#[test]
fn approvals_bind_both_policies_and_the_approver() {
    let (old, new) = (governed(), successor());
    let mut update = PolicyUpdate::new(&old, &new).unwrap();
    // An approval of another successor, or one signed by someone else.
    let other = VaultPolicy::from_toml(&example_text()).unwrap();
    let wrong_new = approval(&old, other.id(), "sato");
    assert_eq!(
        update.add_approval(&old, wrong_new),
        Err(UpdateError::BadApproval("sato".parse().unwrap()))
    );
    let mut forged = approval(&old, new.id(), "tanaka");
    forged.approver = "suzuki".parse().unwrap();
    assert!(update.add_approval(&old, forged).is_err());
    let stranger = approval(&old, new.id(), "nobody");
    assert!(update.add_approval(&old, stranger).is_err());

    // An update made for one pair of policies is not one for another.
    update
        .add_approval(&old, approval(&old, new.id(), "sato"))
        .unwrap();
    update
        .add_approval(&old, approval(&old, new.id(), "tanaka"))
        .unwrap();
    assert!(matches!(
        update.approved(&new, &old),
        Err(UpdateError::OtherPolicies(_))
    ));
    // Another vault or network is no change of this one.
    let renamed = VaultPolicy::from_toml(
        &(example_text().replace("name = \"exchange-main\"", "name = \"other\"") + GOVERNANCE),
    )
    .unwrap();
    assert!(matches!(
        PolicyUpdate::new(&old, &renamed),
        Err(UpdateError::OtherVault { .. })
    ));
    assert!(matches!(
        PolicyUpdate::new(&old, &old),
        Err(UpdateError::Unchanged(_))
    ));
}

#[test]
fn an_ungoverned_policy_needs_no_approvals() {
    let old = VaultPolicy::from_toml(&example_text()).unwrap();
    let new = governed();
    let update = PolicyUpdate::new(&old, &new).unwrap();
    let ok = update.approved(&old, &new).unwrap();
    assert!(ok.approvers().is_empty());
    assert_eq!(ok.wait_blocks(), 0);
}

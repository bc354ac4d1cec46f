use super::*;
use crate::error::{Classify, ExitCode};
use crate::policy::ApproverId;
use crate::signer::approval_key::ApproverSecret;
use crate::signer::keystore::{Mnemonic, Passphrase, SeedOrigin};

const EXCHANGE: &str = include_str!("../../../policies/regtest-exchange.toml");
const COLD_1: &str = "elder badge can gallery exile milk peanut entry traffic begin roast cloud shield thought desk keen mixed save gift pond twelve assist will response";
const SATO_SECRET: &str = "c37131369f9da9d25a097fac8a5b631959816235c478192216d4726aa6388ec0";

fn home() -> (tempfile::TempDir, SignerHome) {
    let tmp = tempfile::tempdir().unwrap();
    let home = SignerHome::open(Some(tmp.path().join("signer"))).unwrap();
    (tmp, home)
}

/// Registers `policy` as new on a signer without a seed.
fn register(home: &SignerHome, policy: &VaultPolicy) {
    let reg = home.prepare_registration(policy.clone()).unwrap();
    home.register(&reg, SameVault::Refuse, None, None).unwrap();
}

/// Restores cold-1's seed (regtest) into `home`.
fn restore_cold_1(home: &SignerHome) -> Passphrase {
    let pass = Passphrase::new("a long passphrase");
    home.create_seed(
        &Mnemonic::parse(COLD_1).unwrap(),
        bitcoin::Network::Regtest,
        &pass,
        SeedOrigin::Restore,
    )
    .unwrap();
    pass
}

#[test]
fn holdings_name_the_key_and_approver_held() {
    let (_tmp, home) = home();
    let policy = VaultPolicy::from_toml(EXCHANGE).unwrap();
    assert!(home.holdings(&policy).unwrap().review_only());
    let pass = Passphrase::new("a long passphrase");
    home.create_seed(
        &Mnemonic::parse(COLD_1).unwrap(),
        bitcoin::Network::Regtest,
        &pass,
        SeedOrigin::Restore,
    )
    .unwrap();
    home.approver_import(
        &"sato".parse::<ApproverId>().unwrap(),
        ApproverSecret::from_hex(SATO_SECRET).unwrap(),
        &pass,
    )
    .unwrap();
    // An approver id of the policy with a different key must not count.
    home.approver_init(&"tanaka".parse().unwrap(), &pass)
        .unwrap();
    let h = home.holdings(&policy).unwrap();
    assert_eq!(
        h.fingerprint.map(|f| f.to_string()).as_deref(),
        Some("02a6288e")
    );
    assert_eq!(h.keys.len(), 1);
    assert_eq!(h.keys[0].key.as_str(), "cold-1");
    assert_eq!(h.keys[0].roles, ["cold"]);
    assert_eq!(h.approvers, ["sato".parse::<ApproverId>().unwrap()]);
    assert_eq!(
        h.approver_mismatches,
        ["tanaka".parse::<ApproverId>().unwrap()]
    );
    assert!(!h.review_only());
}

#[test]
fn register_replace_and_reload() {
    let (_tmp, home) = home();
    let policy = VaultPolicy::from_toml(EXCHANGE).unwrap();
    let id = policy.id();
    assert!(home.registered_policy(&id).unwrap().is_none());
    let reg = home.prepare_registration(policy.clone()).unwrap();
    assert!(matches!(reg.status, RegistrationStatus::New));
    assert!(reg.to_text().contains("can only review"));
    home.register(&reg, SameVault::Refuse, None, None).unwrap();
    assert_eq!(home.registered_policy(&id).unwrap().unwrap(), policy);

    let again = home.prepare_registration(policy.clone()).unwrap();
    assert!(matches!(
        again.status,
        RegistrationStatus::AlreadyRegistered
    ));

    let changed = VaultPolicy::from_toml(&EXCHANGE.replacen(
        "max_amount = \"5 BTC\"",
        "max_amount = \"4 BTC\"",
        1,
    ))
    .unwrap();
    let reg2 = home.prepare_registration(changed.clone()).unwrap();
    let text = reg2.to_text();
    assert!(text.contains("REPLACES"), "{text}");
    assert!(text.contains("- max_amount = \"5 BTC\""), "{text}");
    assert!(text.contains("+ max_amount = \"4 BTC\""), "{text}");
    assert!(matches!(
        home.register(&reg2, SameVault::Refuse, None, None),
        Err(RegistryError::NeedsReplace { .. })
    ));
    assert!(home.registered_policy(&changed.id()).unwrap().is_none());
    home.register(&reg2, SameVault::Replace, None, None)
        .unwrap();
    assert!(home.registered_policy(&id).unwrap().is_none());
    assert!(home
        .policies_dir()
        .join("retired")
        .join(format!("{id}.toml"))
        .exists());
    let all = home.registered_policies().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id(), changed.id());

    let log = home.log().verify().unwrap();
    let last = log.entries.last().unwrap();
    let Some(crate::audit::Event::Register(r)) = last.event().unwrap() else {
        panic!("the newest entry is not a registration")
    };
    assert_eq!((r.replaced, r.policy_id), (Some(id), changed.id()));
}

#[test]
fn a_registered_file_that_changed_is_refused() {
    let (_tmp, home) = home();
    let policy = VaultPolicy::from_toml(EXCHANGE).unwrap();
    register(&home, &policy);
    let path = home.policies_dir().join(format!("{}.toml", policy.id()));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("5 BTC", "6 BTC", 1)).unwrap();
    assert!(matches!(
        home.registered_policy(&policy.id()),
        Err(RegistryError::Corrupt { .. })
    ));
}

/// Writes `policy` into `policies/` by hand, as anyone who can write the
/// data directory could.
fn place(home: &SignerHome, policy: &VaultPolicy) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    home.subdir(home.policies_dir()).unwrap();
    let path = home.policies_dir().join(format!("{}.toml", policy.id()));
    std::fs::write(&path, policy.to_toml()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

#[test]
fn policy_file_without_register_entry_is_not_registered() {
    let (_tmp, home) = home();
    let policy = VaultPolicy::from_toml(EXCHANGE).unwrap();
    let path = place(&home, &policy);
    let err = home.registered_policy(&policy.id()).unwrap_err();
    assert!(matches!(err, RegistryError::Unlogged { .. }), "{err}");
    assert_eq!(err.exit_code(), ExitCode::Refused);
    assert!(
        err.to_string().contains("custodia-signer register"),
        "{err}"
    );
    assert!(home.registered_policies().unwrap().is_empty());
    assert_eq!(home.unregistered_policy_files().unwrap().len(), 1);

    // Registering the same policy adopts the file and logs it.
    let reg = home.prepare_registration(policy.clone()).unwrap();
    assert!(matches!(reg.status, RegistrationStatus::New));
    home.register(&reg, SameVault::Refuse, None, None).unwrap();
    assert!(path.exists());
    assert_eq!(
        home.registered_policy(&policy.id()).unwrap().unwrap(),
        policy
    );
    assert!(home.unregistered_policy_files().unwrap().is_empty());
}

#[test]
fn retired_policy_file_put_back_is_not_registered() {
    let (_tmp, home) = home();
    let old = VaultPolicy::from_toml(EXCHANGE).unwrap();
    register(&home, &old);
    let new = VaultPolicy::from_toml(&EXCHANGE.replacen(
        "max_amount = \"5 BTC\"",
        "max_amount = \"4 BTC\"",
        1,
    ))
    .unwrap();
    home.register(
        &home.prepare_registration(new.clone()).unwrap(),
        SameVault::Replace,
        None,
        None,
    )
    .unwrap();
    place(&home, &old);
    let err = home.registered_policy(&old.id()).unwrap_err();
    match &err {
        RegistryError::Retired { by, .. } => assert_eq!(*by, new.id()),
        other => panic!("expected Retired, got {other}"),
    }
    assert_eq!(err.exit_code(), ExitCode::Refused);
    let all = home.registered_policies().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id(), new.id());

    // Registering the old one again (with --replace) makes it current again.
    let back = home.prepare_registration(old.clone()).unwrap();
    home.register(&back, SameVault::Replace, None, None)
        .unwrap();
    assert_eq!(home.registered_policy(&old.id()).unwrap().unwrap(), old);
    assert!(matches!(
        home.registered_policy(&new.id()),
        Ok(None) | Err(RegistryError::Retired { .. })
    ));
}

const DRILL: &str =
    include_str!("../../../tests/data/policies/attacks/drill-with-the-cold-keys-as-hot.toml");
const SWAPPED: &str =
    include_str!("../../../tests/data/policies/attacks/exchange-with-tiers-swapped.toml");
const NOT_OF_THEIR_SEEDS: &str =
    include_str!("../../../tests/data/policies/attacks/xpubs-not-of-their-seeds.toml");
const MAINNET: &str = include_str!("../../../policies/mainnet-template.toml");

/// A home holding cold-1's seed (regtest) with exchange-main registered.
fn cold_1_home() -> (tempfile::TempDir, SignerHome, Passphrase) {
    let (tmp, home) = home();
    let pass = restore_cold_1(&home);
    let seed = home.unlock_seed(&pass).unwrap();
    let policy = VaultPolicy::from_toml(EXCHANGE).unwrap();
    let reg = home.prepare_registration(policy).unwrap();
    home.register(&reg, SameVault::Refuse, None, Some(&seed))
        .unwrap();
    (tmp, home, pass)
}

#[test]
fn a_drill_vault_reusing_the_cold_keys_is_refused() {
    let (_tmp, home, _) = cold_1_home();
    let log_before = std::fs::read(home.log().path()).unwrap();
    let drill = VaultPolicy::from_toml(DRILL).unwrap();
    match home.prepare_registration(drill.clone()) {
        Err(RegistryError::KeyOfAnotherVault { vault, .. }) => assert_eq!(vault, "exchange-main"),
        other => panic!("{:?}", other.map(|r| r.policy.id())),
    }
    assert!(home.registered_policy(&drill.id()).unwrap().is_none());
    assert_eq!(std::fs::read(home.log().path()).unwrap(), log_before);
}

#[test]
fn a_replacement_moving_keys_to_the_other_tier_is_refused() {
    let (_tmp, home, _) = cold_1_home();
    let swapped = VaultPolicy::from_toml(SWAPPED).unwrap();
    let err = home.prepare_registration(swapped).err().unwrap();
    assert!(
        matches!(&err, RegistryError::KeyChangedTier { was, is, .. } if was == &[Tier::Cold] && is == &[Tier::Hot]
            || was == &[Tier::Hot] && is == &[Tier::Cold]),
        "{err}"
    );
    assert_eq!(err.exit_code(), ExitCode::Refused);
}

#[test]
fn a_policy_of_another_network_than_the_seed_is_refused() {
    let (_tmp, home, _) = cold_1_home();
    let mainnet = VaultPolicy::from_toml(MAINNET).unwrap();
    assert!(matches!(
        home.prepare_registration(mainnet),
        Err(RegistryError::OtherNetwork {
            seed: bitcoin::Network::Regtest,
            policy: bitcoin::Network::Bitcoin
        })
    ));
}

#[test]
fn a_policy_stating_another_xpub_for_this_seed_is_refused() {
    let (_tmp, home) = home();
    let pass = restore_cold_1(&home);
    let wrong = VaultPolicy::from_toml(NOT_OF_THEIR_SEEDS).unwrap();
    let reg = home.prepare_registration(wrong.clone()).unwrap();
    assert!(reg.needs_seed());
    // Without the seed nothing is registered; with it the key is compared.
    assert!(matches!(
        home.register(&reg, SameVault::Refuse, None, None),
        Err(RegistryError::SeedNeeded)
    ));
    let seed = home.unlock_seed(&pass).unwrap();
    match home.register(&reg, SameVault::Refuse, None, Some(&seed)) {
        Err(RegistryError::NotThisSeedsKey { key, .. }) => assert_eq!(key.as_str(), "cold-1"),
        other => panic!("{other:?}"),
    }
    assert!(home.registered_policy(&wrong.id()).unwrap().is_none());
}

/// A governed policy is replaced only with its approvers' update: a key
/// holder's `--replace` alone, too few approvals, or an update made for
/// another successor are refused, and nothing is written or logged.
#[test]
fn a_governed_policy_is_replaced_only_with_its_approved_update() {
    use crate::policy::update::tests::{approval, governed, successor};
    use crate::policy::update::{PolicyUpdate, UpdateError};
    let (_tmp, home) = home();
    let (old, new) = (governed(), successor());
    register(&home, &old);
    let entries = || home.log().verify().unwrap().entries.len();
    let before = entries();

    let reg = home.prepare_registration(new.clone()).unwrap();
    let refused = home
        .register(&reg, SameVault::Replace, None, None)
        .unwrap_err();
    assert!(matches!(refused, RegistryError::UpdateNeeded { .. }));
    assert_eq!(refused.exit_code(), ExitCode::Refused);

    let mut update = PolicyUpdate::new(&old, &new).unwrap();
    update
        .add_approval(&old, approval(&old, new.id(), "sato"))
        .unwrap();
    let refused = home
        .register(&reg, SameVault::Replace, Some(&update), None)
        .unwrap_err();
    assert!(matches!(
        refused,
        RegistryError::Update(UpdateError::TooFewApprovals { approvers: 1, .. })
    ));

    // An update approving another successor is no approval of this one.
    let other = VaultPolicy::from_toml(&EXCHANGE.replacen(
        "max_amount = \"5 BTC\"",
        "max_amount = \"4 BTC\"",
        1,
    ))
    .unwrap();
    let elsewhere = PolicyUpdate::new(&old, &other).unwrap();
    assert!(matches!(
        home.register(&reg, SameVault::Replace, Some(&elsewhere), None),
        Err(RegistryError::Update(UpdateError::OtherPolicies(_)))
    ));
    assert_eq!(entries(), before, "nothing logged");
    assert!(home.registered_policy(&new.id()).unwrap().is_none());
    assert!(home.registered_policy(&old.id()).unwrap().is_some());

    update
        .add_approval(&old, approval(&old, new.id(), "tanaka"))
        .unwrap();
    home.register(&reg, SameVault::Replace, Some(&update), None)
        .unwrap();
    assert!(home.registered_policy(&new.id()).unwrap().is_some());
    let last = home.log().verify().unwrap().entries.pop().unwrap();
    let Some(Event::Register(r)) = last.event().unwrap() else {
        panic!("a register entry");
    };
    assert_eq!(r.replaced, Some(old.id()));
    let approvers: Vec<&str> = r.update_approvers.iter().map(|a| a.as_str()).collect();
    assert_eq!(approvers, ["sato", "tanaka"]);
}

/// A seed is wiped only with its passphrase and once no registered policy
/// names its key; otherwise nothing is touched.
#[test]
fn a_key_is_retired_only_when_no_registered_policy_uses_it() {
    let (_tmp, home, pass) = cold_1_home();
    assert!(matches!(
        home.retire_key(&Passphrase::new("not the passphrase")),
        Err(RegistryError::KeyStore(KeyStoreError::WrongPassphrase(_)))
    ));
    let refused = home.retire_key(&pass).unwrap_err();
    assert!(matches!(refused, RegistryError::KeyStillUsed { .. }));
    assert_eq!(refused.exit_code(), ExitCode::Refused);
    assert!(home.has_seed());

    let (_tmp2, fresh) = home_with_cold_1_only();
    fresh.retire_key(&pass).unwrap();
    assert!(!fresh.has_seed());
    assert!(fresh.key_info().unwrap().is_some(), "key.json stays");
    let kinds = fresh.log().verify().unwrap().kinds().join(",");
    assert!(kinds.ends_with("retire-key"), "{kinds}");
}

/// A home holding cold-1's seed and no registered policy.
fn home_with_cold_1_only() -> (tempfile::TempDir, SignerHome) {
    let (tmp, home) = home();
    restore_cold_1(&home);
    (tmp, home)
}

use bitcoin::Network;

use super::*;
use crate::policy::ScriptKind;
use crate::signer::keystore::SeedOrigin;

const SATO_SECRET: &str = "c37131369f9da9d25a097fac8a5b631959816235c478192216d4726aa6388ec0";

/// An age identity file and its recipient.
fn identity(dir: &Path) -> (std::path::PathBuf, BackupRecipient) {
    use age::secrecy::ExposeSecret;
    let identity = age::x25519::Identity::generate();
    let file = dir.join("id.txt");
    write_new_atomically(&file, identity.to_string().expose_secret().as_bytes()).unwrap();
    (file, identity.to_public().to_string().parse().unwrap())
}

#[test]
fn seed_and_approval_keys_come_back_from_one_backup() {
    let tmp = tempfile::tempdir().unwrap();
    let home = SignerHome::open(Some(tmp.path().join("signer"))).unwrap();
    let pass = Passphrase::new("a long passphrase");
    let words = Mnemonic::generate();
    home.create_seed(&words, Network::Regtest, &pass, SeedOrigin::Init)
        .unwrap();
    let sato: ApproverId = "sato".parse().unwrap();
    home.approver_import(&sato, ApproverSecret::from_hex(SATO_SECRET).unwrap(), &pass)
        .unwrap();
    let (id_file, recipient) = identity(tmp.path());
    let out = tmp.path().join("backup.age");
    let report = home.backup(&pass, &[recipient], &out).unwrap();
    assert_eq!(report.approvers, std::slice::from_ref(&sato));

    let contents = read_backup(&out, &id_file).unwrap();
    assert_eq!(contents.approver_ids(), std::slice::from_ref(&sato));
    let other = SignerHome::open(Some(tmp.path().join("other"))).unwrap();
    let new_pass = Passphrase::new("another passphrase");
    let restored = other
        .restore_backup(&contents, Some(Network::Regtest), || {
            Ok(Passphrase::new("another passphrase"))
        })
        .unwrap();
    assert_eq!(restored.approvers, std::slice::from_ref(&sato));
    let seed = home.unlock_seed(&pass).unwrap();
    let seed2 = other.unlock_seed(&new_pass).unwrap();
    assert_eq!(
        seed2.account_xpub(Network::Regtest, ScriptKind::Tr, 3),
        seed.account_xpub(Network::Regtest, ScriptKind::Tr, 3)
    );
    // The same approval key, not a new one.
    assert_eq!(
        other
            .unlock_approver(&sato, &new_pass)
            .unwrap()
            .x_only_public_key(),
        home.unlock_approver(&sato, &pass)
            .unwrap()
            .x_only_public_key()
    );
    assert_eq!(
        home.log().verify().unwrap().kinds(),
        ["init", "approver-import", "backup"]
    );
    let log_text = std::fs::read_to_string(home.log_path()).unwrap();
    let phrase = words.phrase();
    let first: Vec<&str> = phrase.split(' ').take(3).collect();
    assert!(!log_text.contains(&first.join(" ")), "no secret in the log");
    assert!(!log_text.contains(SATO_SECRET), "no secret in the log");
}

#[test]
fn an_approver_only_signer_backs_up_and_a_conflicting_key_refuses_the_restore() {
    let tmp = tempfile::tempdir().unwrap();
    let home = SignerHome::open(Some(tmp.path().join("approver"))).unwrap();
    let pass = Passphrase::new("a long passphrase");
    let sato: ApproverId = "sato".parse().unwrap();
    home.approver_import(&sato, ApproverSecret::from_hex(SATO_SECRET).unwrap(), &pass)
        .unwrap();
    let (id_file, recipient) = identity(tmp.path());
    let out = tmp.path().join("backup.age");
    let report = home.backup(&pass, &[recipient], &out).unwrap();
    assert_eq!(report.fingerprint, None);
    let contents = read_backup(&out, &id_file).unwrap();
    assert!(contents.words().is_none());

    // Another key stored under the same id: nothing is written.
    let other = SignerHome::open(Some(tmp.path().join("other"))).unwrap();
    other.approver_init(&sato, &pass).unwrap();
    let before = other.log().verify().unwrap().entries.len();
    assert!(matches!(
        other.restore_backup(&contents, None, || Ok(Passphrase::new("a long passphrase"))),
        Err(KeyStoreError::ApproverExists(_))
    ));
    assert_eq!(other.log().verify().unwrap().entries.len(), before);

    // Restoring onto the laptop that holds the same key restores nothing new.
    let restored = home
        .restore_backup(&contents, None, || Ok(Passphrase::new("a long passphrase")))
        .unwrap();
    assert!(restored.approvers.is_empty() && restored.seed.is_none());
}

#[test]
fn a_backups_plaintext_is_strict() {
    let path = Path::new("backup.age");
    let words = Mnemonic::generate();
    let ok = format!("{}\napprover sato {SATO_SECRET}\n", &*words.phrase());
    assert!(BackupContents::parse(&ok, path).is_ok());
    // The words as age -d shows them, alone: an older backup.
    assert!(BackupContents::parse(&words.phrase(), path).is_ok());
    for bad in [
        String::new(),
        format!("approver sato {SATO_SECRET}\napprover sato {SATO_SECRET}\n"),
        format!("approver sato {}\n", &SATO_SECRET[..60]),
        format!("{}\nsomething else\n", &*words.phrase()),
        format!("approver s@to {SATO_SECRET}\n"),
    ] {
        assert!(
            matches!(
                BackupContents::parse(&bad, path),
                Err(KeyStoreError::Corrupt { .. })
            ),
            "{bad}"
        );
    }
}

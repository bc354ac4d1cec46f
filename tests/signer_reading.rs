//! Reading PSBTs: garbage and truncation are bad input, what is written
//! back adds only signatures, hostile derivations are not followed, and
//! PSBTs made by Bitcoin Core are read, reviewed and signed.

mod signer_fixtures;

use bitcoin::secp256k1::Secp256k1;
use custodia::policy::Tier;
use custodia::psbt::{Movement, PsbtDocument, PsbtError, RuleId, SignablePsbt};
use custodia::signer::signing::sign_psbt;
use miniscript::psbt::PsbtExt;
use signer_fixtures::*;

// ---------- reading ----------

#[test]
fn garbage_and_truncated_psbts_are_bad_input() {
    let policy = policy("regtest-exchange");
    let psbt = hot_payout(&policy, 1, BTC / 2);
    let bytes = psbt.serialize();
    for cut in [1, 10, bytes.len() / 2, bytes.len() - 1] {
        let err = PsbtDocument::from_bytes(&bytes[..cut]).unwrap_err();
        assert_eq!(custodia::cli::exit_code_for(&err).code(), 2, "{err}");
    }
    let mut longer = bytes.clone();
    longer.extend([0, 0]);
    assert!(matches!(
        PsbtDocument::from_bytes(&longer),
        Err(PsbtError::TrailingBytes(2))
    ));
    assert!(PsbtDocument::from_bytes(b"not a psbt at all").is_err());
    // Both encodings read back to the same PSBT.
    let doc = PsbtDocument::from_bytes(&bytes).unwrap();
    assert_eq!(doc.psbt(), &psbt);
    let b64 = psbt.to_string();
    assert_eq!(
        PsbtDocument::from_bytes(b64.as_bytes()).unwrap().psbt(),
        &psbt
    );
}

#[test]
fn signed_psbt_is_written_back_with_only_signatures_added() {
    let policy = policy("regtest-exchange");
    let psbt = hot_payout(&policy, 1, BTC / 2);
    let doc = PsbtDocument::from_bytes(psbt.to_string().as_bytes()).unwrap();
    let signed = sign_psbt(&signable(&policy, doc.psbt()), &master("hot-3"))
        .unwrap()
        .psbt;
    let out = doc.encode(&signed, doc.encoding()).unwrap();
    let back = PsbtDocument::from_bytes(&out).unwrap();
    assert_eq!(back.psbt(), &signed);
    assert_eq!(back.psbt().inputs[0].partial_sigs.len(), 1);
}

// ---------- robustness ----------

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// Damaged PSBTs are refused or reviewed, never a panic; one that still
    /// passes every rule signs without panicking.
    #[test]
    fn damaged_psbts_never_panic(
        flips in proptest::collection::vec((0usize..100_000, proptest::prelude::any::<u8>()), 1..4),
        cut in proptest::option::of(0usize..100_000),
    ) {
        let policy = policy("regtest-exchange");
        let mut bytes = hot_payout(&policy, 1, BTC / 2).serialize();
        for (pos, byte) in flips {
            let i = pos % bytes.len();
            bytes[i] = byte;
        }
        if let Some(c) = cut {
            bytes.truncate(c % (bytes.len() + 1));
        }
        if let Ok(doc) = PsbtDocument::from_bytes(&bytes) {
            let r = review(&policy, doc.psbt());
            let _ = r.to_text();
            let checked = SignablePsbt::check(&policy, doc.psbt().clone(), &today());
            proptest::prop_assert_eq!(checked.is_ok(), r.passes());
            if let Ok(checked) = checked {
                proptest::prop_assert!(sign_psbt(&checked, &master("hot-1")).is_ok());
            }
        }
    }
}

#[test]
fn the_same_coin_spent_twice() {
    let policy = policy("regtest-exchange");
    let mut psbt = spend(
        &policy,
        &[
            (at(Tier::Hot, 0, 0), sat(BTC)),
            (at(Tier::Hot, 0, 1), sat(BTC)),
        ],
        &[(To::Vault(at(Tier::Hot, 1, 0)), sat(2 * BTC - 20_000))],
    );
    psbt.unsigned_tx.input[1] = psbt.unsigned_tx.input[0].clone();
    psbt.inputs[1] = psbt.inputs[0].clone();
    assert_refused(&policy, &psbt, RuleId::InputsFromVault);
}

#[test]
fn payout_amount_counts_only_what_leaves_the_vault() {
    let policy = policy("regtest-exchange");
    let psbt = spend(
        &policy,
        &[(at(Tier::Hot, 0, 0), sat(3 * BTC))],
        &[
            (To::Address(payee(2)), sat(BTC / 4)),
            (To::Vault(at(Tier::Cold, 0, 9)), sat(2 * BTC)),
            (
                To::Vault(at(Tier::Hot, 1, 1)),
                sat(3 * BTC - BTC / 4 - 2 * BTC - 9_000),
            ),
        ],
    );
    let r = review(&policy, &psbt);
    assert!(r.passes(), "{}", r.to_text());
    assert_eq!(r.movement(), Some(Movement::HotPayout));
    assert_eq!(r.moved().to_sat(), BTC / 4);
}

// ---------- PSBTs made by Bitcoin Core (tests/data/psbt) ----------

/// Core's `createpsbt` + `utxoupdatepsbt` output, recorded by the interop test:
/// read offline in both versions, tagged, approved, signed and finalized.
#[test]
fn core_made_psbts_v0_and_v2_are_read_reviewed_and_signed_offline() {
    for (policy_name, signers) in [
        ("regtest-exchange", ["cold-1", "cold-2", "cold-3"]),
        ("regtest-taproot", ["cold-3", "cold-4", "cold-5"]),
    ] {
        let policy = policy(policy_name);
        for version in [0, 2] {
            let file = crate_path(&format!(
                "tests/data/psbt/core-{policy_name}-cold-to-hot-v{version}.b64"
            ));
            let doc = PsbtDocument::read(&file).unwrap();
            let want = match version {
                0 => custodia::psbt::PsbtVersion::V0,
                _ => custodia::psbt::PsbtVersion::V2,
            };
            assert_eq!(doc.version(), want);
            let r = review(&policy, doc.psbt());
            let failing: Vec<RuleId> = r.failures().map(|c| c.rule).collect();
            assert_eq!(
                failing,
                [RuleId::PolicyId, RuleId::Approvals],
                "{}",
                r.to_text()
            );

            let mut psbt = doc.psbt().clone();
            custodia::psbt::set_policy_id(&mut psbt, policy.id()).unwrap();
            approve(&policy, &mut psbt, &["suzuki", "tanaka"]);
            for encoding in [
                custodia::psbt::Encoding::Base64,
                custodia::psbt::Encoding::Binary,
            ] {
                let bytes = doc.encode(&psbt, encoding).unwrap();
                let tagged = PsbtDocument::from_bytes(&bytes).unwrap();
                assert_eq!(tagged.version(), want);
                assert_eq!(tagged.encoding(), encoding);
                assert_eq!(tagged.psbt(), &psbt);
            }
            let mut fin = sign_all(&policy, &psbt, &signers);
            fin.finalize_mut(&Secp256k1::new()).unwrap();
        }
    }
}

#[test]
fn derivations_naming_many_paths_are_not_followed() {
    let policy = policy("regtest-exchange");
    let mut psbt = hot_payout(&policy, 1, BTC / 2);
    // Copy the real claim under many other indexes: too many to check.
    let (fp, path) = psbt.inputs[0]
        .bip32_derivation
        .values()
        .next()
        .cloned()
        .unwrap();
    let account: Vec<_> = path.into_iter().take(4).cloned().collect();
    for i in 0..10u32 {
        let mut p = account.clone();
        p.push(bitcoin::bip32::ChildNumber::Normal { index: 0 });
        p.push(bitcoin::bip32::ChildNumber::Normal { index: 500 + i });
        let fake = bitcoin::secp256k1::PublicKey::from_secret_key(
            &Secp256k1::new(),
            &bitcoin::secp256k1::SecretKey::from_slice(&[i as u8 + 1; 32]).unwrap(),
        );
        psbt.inputs[0].bip32_derivation.insert(fake, (fp, p.into()));
    }
    assert_refused(&policy, &psbt, RuleId::InputsFromVault);
}

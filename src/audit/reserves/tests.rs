//! The tree, its proofs and a known-answer vector.

use bitcoin::Amount;
use proptest::prelude::*;

use super::*;

const SECRET: [u8; 32] = [0x11; 32];

fn liabilities(rows: &[(&str, u64)]) -> Vec<Liability> {
    rows.iter()
        .enumerate()
        .map(|(i, (id, sat))| Liability {
            line: i + 1,
            customer: CustomerId::try_from(id.to_string()).unwrap(),
            amount: Amount::from_sat(*sat),
        })
        .collect()
}

fn id(s: &str) -> CustomerId {
    CustomerId::try_from(s.to_owned()).unwrap()
}

/// The vector of docs/auditor.md and tests/data/reserves/vector.json,
/// computed independently of this code as well.
#[test]
fn known_answer() {
    let vector: serde_json::Value =
        serde_json::from_str(include_str!("../../../tests/data/reserves/vector.json")).unwrap();
    let secret = parse_hex_32(vector["salt_secret_hex"].as_str().unwrap()).unwrap();
    assert_eq!(secret, SECRET);
    let rows: Vec<(String, u64)> = vector["liabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_str().unwrap().to_owned(), r[1].as_u64().unwrap()))
        .collect();
    let rows: Vec<(&str, u64)> = rows.iter().map(|(c, s)| (c.as_str(), *s)).collect();
    let tree = MerkleSumTree::build(&liabilities(&rows), &secret);
    assert_eq!(hex(&tree.root().hash), vector["root_hex"].as_str().unwrap());
    assert_eq!(
        tree.root().sum.to_sat(),
        vector["total_sat"].as_u64().unwrap()
    );
    assert_eq!(
        hex(&salt(&secret, &id("alice"))),
        vector["salt_alice_hex"].as_str().unwrap()
    );
}

#[test]
fn a_tampered_proof_fails_and_says_why() {
    let list = liabilities(&[
        ("alice", 100_000_000),
        ("bob", 50_000_000),
        ("carol", 2_500),
    ]);
    let tree = MerkleSumTree::build(&list, &SECRET);
    let root = tree.root().hash;
    let proof = InclusionProof::of(&tree, &id("bob"), Amount::from_sat(50_000_000)).unwrap();
    proof.verify(&root).unwrap();
    assert_eq!(proof.path.len(), 2);

    let tamper = |f: &dyn Fn(&mut InclusionProof)| {
        let mut p = proof.clone();
        f(&mut p);
        p.verify(&root).unwrap_err()
    };
    // A larger balance, another salt, a smaller sibling sum, a swapped side,
    // a sibling's hash: the path no longer leads to the root.
    for failure in [
        tamper(&|p| p.amount = Amount::from_sat(60_000_000)),
        tamper(&|p| p.salt[0] ^= 1),
        tamper(&|p| p.path[0].sum = Amount::ZERO),
        tamper(&|p| {
            p.path[1].side = match p.path[1].side {
                Side::Left => Side::Right,
                Side::Right => Side::Left,
            }
        }),
        tamper(&|p| p.path[1].hash[31] ^= 1),
        tamper(&|p| p.path.reverse()),
        tamper(&|p| p.customer = id("mallory")),
    ] {
        assert!(
            matches!(failure, ProofFailure::NotTheProofsRoot { .. }),
            "{failure:?}"
        );
    }
    // A stated total that is not the root's sum.
    assert!(matches!(
        tamper(&|p| p.total = Amount::from_sat(1)),
        ProofFailure::TotalMismatch { .. }
    ));
    // Another root than the one published.
    let other = MerkleSumTree::build(&list[..2], &SECRET).root().hash;
    assert!(matches!(
        proof.verify(&other).unwrap_err(),
        ProofFailure::NotThePublishedRoot { .. }
    ));
    // Sums that overflow are refused, not wrapped.
    assert!(matches!(
        tamper(&|p| p.path[0].sum = Amount::MAX),
        ProofFailure::Overflow(0)
    ));
    // The file form reads back the same.
    let json = serde_json::to_string(&proof).unwrap();
    assert_eq!(
        serde_json::from_str::<InclusionProof>(&json).unwrap(),
        proof
    );
}

#[test]
fn padding_is_no_customer_and_a_single_customer_has_a_path() {
    let list = liabilities(&[("alice", 7)]);
    let tree = MerkleSumTree::build(&list, &SECRET);
    assert_eq!(tree.root().sum, Amount::from_sat(7));
    let proof = InclusionProof::of(&tree, &id("alice"), Amount::from_sat(7)).unwrap();
    proof.verify(&tree.root().hash).unwrap();
    assert_eq!(proof.path[0].hash, padding(1).hash);
    assert_ne!(
        padding(1).hash,
        leaf(&id("alice"), &[0; 32], Amount::ZERO).hash
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn every_customer_verifies_and_the_root_sums_all(
        amounts in proptest::collection::vec(0u64..2_100_000_000_000_000 / 64, 1..40),
        flip in any::<prop::sample::Index>(),
    ) {
        let rows: Vec<(String, u64)> = amounts
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("c-{i}"), *a))
            .collect();
        let rows: Vec<(&str, u64)> = rows.iter().map(|(c, a)| (c.as_str(), *a)).collect();
        let tree = MerkleSumTree::build(&liabilities(&rows), &SECRET);
        let root = tree.root();
        prop_assert_eq!(root.sum.to_sat(), amounts.iter().sum::<u64>());
        for (c, a) in &rows {
            let proof = InclusionProof::of(&tree, &id(c), Amount::from_sat(*a)).unwrap();
            prop_assert!(proof.verify(&root.hash).is_ok());
        }
        // Flipping any byte of a proof's file makes it fail (or not read).
        let proof = InclusionProof::of(&tree, &id(rows[0].0), Amount::from_sat(rows[0].1)).unwrap();
        let mut bytes = serde_json::to_vec(&proof).unwrap();
        let i = flip.index(bytes.len());
        bytes[i] ^= 0x01;
        if let Ok(p) = serde_json::from_slice::<InclusionProof>(&bytes) {
            prop_assert!(p == proof || p.verify(&root.hash).is_err());
        }
    }
}

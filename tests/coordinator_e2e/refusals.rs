//! PSBTs that belong to another vault or another transaction.

use super::support::*;

#[test]
fn psbts_of_other_vaults_and_other_transactions_are_refused() {
    let node = common::Node::start();
    let c = init_and_fund(&node, 2);
    c.balance();
    let p1 = c.path("one.psbt");
    let p2 = c.path("two.psbt");
    for (p, amount) in [(&p1, "1 BTC"), (&p2, "2 BTC")] {
        c.json(&cold_to_hot(amount, None, p.to_str().unwrap()));
    }
    // Each proposal reserved one of the two coins: a third finds none free.
    let coins = c.json(&["utxos"]);
    assert!(coins
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["reserved"] == true));
    let p3 = c.path("three.psbt");
    let third = [
        "propose",
        "transfer",
        "--from",
        "cold",
        "--to",
        "hot",
        "--amount",
        "1 BTC",
        "-o",
        p3.to_str().unwrap(),
    ];
    let err = c.fails(&third, 1);
    assert!(err.contains("reserved by pending proposals"), "{err}");
    let a = c.json(&["abandon", p2.to_str().unwrap()]);
    assert_eq!(a["released"], 1);
    c.json(&third);

    let out = c.path("mixed.psbt");
    let err = c.fails(
        &[
            "combine",
            p1.to_str().unwrap(),
            p2.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        2,
    );
    assert!(
        err.contains("only copies of the same proposal can be combined"),
        "{err}"
    );
    assert!(!out.exists());

    // A binary PSBT stays binary when combined.
    let binary = c.path("one.bin.psbt");
    std::fs::write(&binary, read_psbt(&p1).serialize()).unwrap();
    let merged = c.path("merged.bin.psbt");
    c.json(&[
        "combine",
        binary.to_str().unwrap(),
        p1.to_str().unwrap(),
        "-o",
        merged.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&merged).unwrap();
    assert!(bytes.starts_with(b"psbt\xff"));
    assert_eq!(Psbt::deserialize(&bytes).unwrap(), read_psbt(&p1));

    // The same transaction named for another vault.
    let mut psbt = read_psbt(&p1);
    psbt.proprietary
        .insert(custodia::psbt::fields::policy_id_key(), vec![7; 32]);
    let foreign = c.path("foreign.psbt");
    std::fs::write(&foreign, psbt.to_string()).unwrap();
    for args in [
        vec!["approvals", foreign.to_str().unwrap()],
        vec![
            "combine",
            p1.to_str().unwrap(),
            foreign.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        vec![
            "finalize",
            foreign.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    ] {
        let err = c.fails(&args, 2);
        assert!(
            err.contains("belongs to vault policy 0707"),
            "{args:?}: {err}"
        );
    }
    // Not a PSBT at all.
    std::fs::write(&foreign, "hello").unwrap();
    c.fails(&["approvals", foreign.to_str().unwrap()], 2);
    // A PSBT that is not finalized cannot be broadcast.
    let err = c.fails(&["broadcast", p1.to_str().unwrap()], 1);
    assert!(err.contains("not finalized"), "{err}");
}

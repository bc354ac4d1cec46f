//! Interop with Bitcoin Core in regtest: Core builds the PSBT (`createpsbt` +
//! `utxoupdatepsbt` with the vault descriptors), custodia tags it, approvers
//! approve, three custodia signers sign separate copies, Core combines and
//! finalizes, and the mempool accepts the transaction. For P2WSH and taproot,
//! and for PSBT v0 and Core's default v2.
#![cfg(feature = "online")]

mod common;
mod signer_fixtures;

use bitcoin::Amount;
use custodia::policy::{ApproverId, Chain, Tier, VaultPolicy};
use custodia::psbt::approvals::sign_approval;
use custodia::psbt::{
    add_approval, approval_status, set_policy_id, DailySpending, LimitScope, Movement,
    PsbtDocument, PsbtVersion, Review,
};
use custodia::signer::signing::sign_psbt;
use serde_json::{json, Value};
use signer_fixtures::{approver_keypair, master, policy, signable, SignerCli};

/// Funds the cold wallet's receive address 0 with one mature coinbase and
/// returns its (txid, vout, amount).
fn fund_cold(node: &common::Node, policy: &VaultPolicy) -> (String, u64, Amount) {
    let cold = policy
        .descriptor(Tier::Cold)
        .address(Chain::Receive, 0, policy.network());
    node.mine_to_descriptor(1, &format!("addr({cold})"));
    node.mine_elsewhere(100);
    let scan = node.call(
        "scantxoutset",
        &[json!("start"), json!([format!("addr({cold})")])],
    );
    let utxo = &scan["unspents"][0];
    let amount = Amount::from_btc(utxo["amount"].as_f64().unwrap()).unwrap();
    (
        utxo["txid"].as_str().unwrap().to_owned(),
        utxo["vout"].as_u64().unwrap(),
        amount,
    )
}

/// The single-chain descriptors of both wallets, for `utxoupdatepsbt`.
fn descriptors(policy: &VaultPolicy) -> Value {
    let mut list = Vec::new();
    for tier in Tier::ALL {
        for chain in [Chain::Receive, Chain::Change] {
            list.push(json!({
                "desc": policy.descriptor(tier).chain(chain).to_string(),
                "range": [0, 20],
            }));
        }
    }
    Value::Array(list)
}

/// Core's cold→hot PSBT of 2 BTC with change, 20,000 sat fee, replaceable
/// (nSequence 0xfffffffd); nLockTime 0, or the current height as wallets that
/// prevent fee sniping set it.
fn core_cold_to_hot(
    node: &common::Node,
    policy: &VaultPolicy,
    version: u32,
    lock_at_tip: bool,
) -> String {
    let (txid, vout, amount) = fund_cold(node, policy);
    let lock_time = match lock_at_tip {
        true => node.call("getblockcount", &[]),
        false => json!(0),
    };
    let net = policy.network();
    let hot = policy.descriptor(Tier::Hot).address(Chain::Receive, 0, net);
    let change = policy.descriptor(Tier::Cold).address(Chain::Change, 0, net);
    let send = Amount::from_sat(200_000_000);
    let back = amount - send - Amount::from_sat(20_000);
    let created = node.call(
        "createpsbt",
        &[
            json!([{"txid": txid, "vout": vout}]),
            json!([{hot.to_string(): send.to_btc()}, {change.to_string(): back.to_btc()}]),
            lock_time,
            json!(true),
            json!(2),       // transaction version
            json!(version), // PSBT version
        ],
    );
    let updated = node.call("utxoupdatepsbt", &[created, descriptors(policy)]);
    updated.as_str().unwrap().to_owned()
}

/// Tags the PSBT and adds approvals from two departments, as the
/// coordinator and the approvers would; returns base64 in the version it came.
fn tag_and_approve(policy: &VaultPolicy, base64: &str) -> String {
    let doc = PsbtDocument::from_bytes(base64.as_bytes()).unwrap();
    let mut psbt = doc.psbt().clone();
    set_policy_id(&mut psbt, policy.id()).unwrap();
    let txid = psbt.unsigned_tx.compute_txid();
    for who in ["sato", "suzuki"] {
        let id: ApproverId = who.parse().unwrap();
        let a = sign_approval(
            policy,
            txid,
            Movement::ColdToHot,
            &id,
            &approver_keypair(who),
        );
        add_approval(policy, &mut psbt, &a).unwrap();
    }
    let out = doc.encode(&psbt, doc.encoding()).unwrap();
    String::from_utf8(out).unwrap().trim().to_owned()
}

fn sign_copy(policy: &VaultPolicy, base64: &str, signer: &str) -> String {
    let doc = PsbtDocument::from_bytes(base64.as_bytes()).unwrap();
    let checked = signable(policy, doc.psbt());
    assert_eq!(checked.review().movement(), Some(Movement::ColdToHot));
    let signed = sign_psbt(&checked, &master(signer)).unwrap();
    assert_eq!(signed.outcome.inputs_signed, 1);
    let psbt = signed.psbt;
    let out = doc.encode(&psbt, doc.encoding()).unwrap();
    String::from_utf8(out).unwrap().trim().to_owned()
}

/// Signs a copy through the `custodia-signer` binary, as a key holder would.
fn sign_copy_with_cli(policy_name: &str, base64: &str, signer: &str) -> String {
    let cli = SignerCli::new(signer, policy_name);
    let input = cli.path("in.psbt");
    std::fs::write(&input, base64).unwrap();
    let output = cli.path("out.psbt");
    cli.sign(&input, &output).arg("--yes").assert().success();
    std::fs::read_to_string(output).unwrap().trim().to_owned()
}

fn round_trip(policy_name: &str, version: u32, signers: [&str; 3]) {
    round_trip_locked(policy_name, version, signers, false);
}

fn round_trip_locked(policy_name: &str, version: u32, signers: [&str; 3], lock_at_tip: bool) {
    let node = common::Node::start();
    let policy = policy(policy_name);
    let core_psbt = core_cold_to_hot(&node, &policy, version, lock_at_tip);
    if lock_at_tip {
        let doc = PsbtDocument::from_bytes(core_psbt.as_bytes()).unwrap();
        let tip = node.call("getblockcount", &[]).as_u64().unwrap();
        assert_eq!(
            u64::from(doc.psbt().unsigned_tx.lock_time.to_consensus_u32()),
            tip
        );
    }
    // `CUSTODIA_WRITE_VECTORS=1` refreshes the offline vectors in tests/data/psbt.
    if std::env::var_os("CUSTODIA_WRITE_VECTORS").is_some() && !lock_at_tip {
        let dir = signer_fixtures::crate_path("tests/data/psbt");
        std::fs::create_dir_all(&dir).unwrap();
        let name = format!("core-{policy_name}-cold-to-hot-v{version}.b64");
        std::fs::write(dir.join(name), format!("{core_psbt}\n")).unwrap();
    }
    let doc = PsbtDocument::from_bytes(core_psbt.as_bytes()).unwrap();
    let expected = if version == 2 {
        PsbtVersion::V2
    } else {
        PsbtVersion::V0
    };
    assert_eq!(doc.version(), expected);

    let approved = tag_and_approve(&policy, &core_psbt);
    // The first key holder uses the binary, the others the library.
    let copies: Vec<Value> = signers
        .iter()
        .enumerate()
        .map(|(i, s)| match i {
            0 => json!(sign_copy_with_cli(policy_name, &approved, s)),
            _ => json!(sign_copy(&policy, &approved, s)),
        })
        .collect();

    let combined = node.call("combinepsbt", &[Value::Array(copies)]);
    // Approvals and the policy tag survive Core's combiner.
    let back = PsbtDocument::from_bytes(combined.as_str().unwrap().as_bytes()).unwrap();
    assert_eq!(back.version(), expected);
    let status = approval_status(&policy, back.psbt(), Movement::ColdToHot);
    assert_eq!(status.valid_approvers.len(), 2, "{status:?}");
    assert!(Review::of(
        &policy,
        back.psbt(),
        &DailySpending::empty(LimitScope::Signer, 0)
    )
    .passes());

    let finalized = node.call("finalizepsbt", &[combined]);
    assert_eq!(finalized["complete"], true, "{finalized}");
    let accept = node.call("testmempoolaccept", &[json!([finalized["hex"]])]);
    assert_eq!(accept[0]["allowed"], true, "{accept}");
}

#[test]
fn wsh_cold_to_hot_v0_core_combines_finalizes_and_accepts() {
    round_trip("regtest-exchange", 0, ["cold-1", "cold-2", "cold-3"]);
}

#[test]
fn wsh_cold_to_hot_from_core_v2_psbt() {
    round_trip("regtest-exchange", 2, ["cold-2", "cold-4", "cold-5"]);
}

#[test]
fn taproot_cold_to_hot_v0_core_combines_finalizes_and_accepts() {
    round_trip("regtest-taproot", 0, ["cold-1", "cold-3", "cold-5"]);
}

#[test]
fn taproot_cold_to_hot_from_core_v2_psbt() {
    round_trip("regtest-taproot", 2, ["cold-1", "cold-2", "cold-3"]);
}

/// Core's anti-fee-sniping shape (nLockTime at the current height, inputs
/// replaceable) passes the lock-time and relative-lock rules, and the mempool
/// accepts the signed transaction at once.
#[test]
fn anti_fee_sniping_lock_time_from_core_signs_and_is_accepted() {
    round_trip_locked("regtest-exchange", 0, ["cold-1", "cold-2", "cold-3"], true);
    round_trip_locked("regtest-taproot", 2, ["cold-1", "cold-3", "cold-5"], true);
}

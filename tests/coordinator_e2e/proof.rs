//! Proof of control end to end: the coordinator proposes it, custodia's
//! signers sign it as a movement that moves nothing, the auditor verifies
//! it against the node's UTXO set, and Bitcoin Core sees no transaction in it.

use miniscript::psbt::PsbtExt;

use super::audit::auditor;
use super::support::*;

const MESSAGE: &str = "audit 2026-12-03 nonce 7f3a";

/// Signs `proof` with each key holder of `keys`; the signed files.
fn sign_all(c: &Coord, proof: &Path, keys: &[&str]) -> Vec<PathBuf> {
    keys.iter()
        .map(|key| {
            let out = c.path(&format!("proof-{key}.psbt"));
            let shown = signer(c, key)
                .arg("sign")
                .arg(proof)
                .arg("-o")
                .arg(&out)
                .arg("--yes")
                .assert()
                .success();
            let o = shown.get_output();
            let text =
                String::from_utf8_lossy(&[&o.stdout[..], &o.stderr[..]].concat()).into_owned();
            assert!(
                text.contains(MESSAGE),
                "the signer shows the message: {text}"
            );
            out
        })
        .collect()
}

fn combine(c: &Coord, files: &[PathBuf], out: &Path) {
    let mut args = vec!["combine".to_owned()];
    args.extend(files.iter().map(|f| f.to_str().unwrap().to_owned()));
    args.extend(["-o".into(), out.to_str().unwrap().into()]);
    c.json(&args.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn proof_of_control_is_signed_verified_and_never_a_transaction() {
    for policy in [POLICY, "policies/regtest-taproot.toml"] {
        prove_control(policy);
    }
}

fn prove_control(policy_file: &str) {
    let node = common::Node::start();
    let c = Coord::new(&node);
    c.json(&["init", policy_file]);
    let a = c.json(&["address", "--tier", "cold"]);
    node.mine_to_descriptor(2, a["descriptor"].as_str().unwrap());
    node.mine_elsewhere(100);
    let cold = sat(&c.balance()["cold"]["confirmed_sat"]);
    for key in ["cold-1", "cold-2", "cold-4"] {
        key_holder(&c, key, policy_file);
    }
    let proof = c.path("proof.psbt");
    let p = c.json(&[
        "propose",
        "proof",
        "--tier",
        "cold",
        "--message",
        MESSAGE,
        "-o",
        proof.to_str().unwrap(),
    ]);
    assert_eq!(p["proposal"]["movement"], "cold-proof-of-control");
    assert_eq!(sat(&p["proposal"]["amount_sat"]), 0);

    // Two of the three signatures cold needs: the auditor finds the coins
    // unproven (exit 1).
    let signed = sign_all(&c, &proof, &["cold-1", "cold-2", "cold-4"]);
    let short = c.path("proof-short.psbt");
    combine(&c, &signed[..2], &short);
    let policy = ["--message", MESSAGE, "--policy", policy_file, "--json"];
    let (code, out, err) = auditor(
        &node,
        &[&["verify-proof", short.to_str().unwrap()], &policy[..]].concat(),
    );
    assert_eq!(code, 1, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["coins"][0]["status"], "unsigned");

    // The quorum: proven, for every confirmed cold coin.
    let full = c.path("proof-all.psbt");
    combine(&c, &signed, &full);
    let (code, out, err) = auditor(
        &node,
        &[&["verify-proof", full.to_str().unwrap()], &policy[..]].concat(),
    );
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(sat(&v["proven_sat"]), cold);
    assert_eq!(v["tier"], "cold");
    assert!(v["coins"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["status"] == "proven"));

    // Another challenge than the auditor's: not proven.
    let (code, out, _) = auditor(
        &node,
        &[
            "verify-proof",
            full.to_str().unwrap(),
            "--message",
            "audit 2026-12-04",
            "--policy",
            policy_file,
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("another message"), "{out}");

    // The coordinator will not finalize it: exit 2, nothing written.
    let hex = c.path("proof.hex");
    let err = c.fails(
        &[
            "finalize",
            full.to_str().unwrap(),
            "-o",
            hex.to_str().unwrap(),
        ],
        2,
    );
    assert!(err.contains("never a transaction"), "{err}");
    assert!(!hex.exists());

    // Neither will Core: its finalizer cannot complete the challenge input ...
    let text = std::fs::read_to_string(&full).unwrap();
    let done = node.call("finalizepsbt", &[json!(text.trim())]);
    assert_eq!(done["complete"], false, "{done}");
    // ... and the transaction with every vault input completed and an empty
    // challenge script is refused: its challenge coin does not exist.
    let mut psbt = read_psbt(&full);
    let secp = bitcoin::secp256k1::Secp256k1::verification_only();
    for index in 1..psbt.inputs.len() {
        psbt.finalize_inp_mut(&secp, index).unwrap();
    }
    psbt.inputs[0].final_script_sig = Some(bitcoin::ScriptBuf::new());
    let tx = psbt.extract_tx_unchecked_fee_rate();
    let hex = bitcoin::consensus::encode::serialize_hex(&tx);
    let accept = node.call("testmempoolaccept", &[json!([hex])]);
    assert_eq!(accept[0]["allowed"], false, "{accept}");
    assert_eq!(accept[0]["reject-reason"], "missing-inputs", "{accept}");

    // The signers logged their signatures of a proposal the coordinator
    // logged: the logs cross-check.
    let mut logs = vec![c.data_dir().join("events.jsonl")];
    logs.extend(["cold-1", "cold-2", "cold-4"].map(|k| c.path(k).join("log.jsonl")));
    let mut args = vec!["log".to_owned(), "verify".to_owned()];
    args.extend(logs.iter().map(|l| l.to_str().unwrap().to_owned()));
    let out = Command::cargo_bin("custodia-auditor")
        .unwrap()
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Nothing moved: the balance is what it was.
    assert_eq!(sat(&c.balance()["cold"]["confirmed_sat"]), cold);
}

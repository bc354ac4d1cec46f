//! What the coordinator's end-to-end tests share: a coordinator data dir
//! wired to a regtest node, funding, and the people around it (approvers and
//! key holders, through Bitcoin Core's signer or custodia-signer).

pub(crate) use std::path::{Path, PathBuf};
pub(crate) use std::str::FromStr;

pub(crate) use assert_cmd::Command;
pub(crate) use bitcoin::bip32::Xpriv;
pub(crate) use bitcoin::secp256k1::{Keypair, Secp256k1, SecretKey};
pub(crate) use bitcoin::{Network, Psbt};
pub(crate) use custodia::policy::{Tier, VaultPolicy};
pub(crate) use custodia::psbt::approvals::{add_approval, sign_approval};
pub(crate) use custodia::psbt::Movement;
pub(crate) use serde_json::{json, Value};

pub(crate) use super::common;

pub(crate) const POLICY: &str = "policies/regtest-exchange.toml";

/// A coordinator data dir wired to a node.
pub(crate) struct Coord<'a> {
    node: &'a common::Node,
    dir: tempfile::TempDir,
}

impl<'a> Coord<'a> {
    pub(crate) fn new(node: &'a common::Node) -> Self {
        Coord {
            node,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn data_dir(&self) -> PathBuf {
        self.dir.path().join("coordinator")
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn cmd(&self) -> Command {
        self.cmd_at(&self.node.rpc_url())
    }

    /// A command pointed at the node URL `url`.
    pub(crate) fn cmd_at(&self, url: &str) -> Command {
        let mut c = Command::cargo_bin("custodia-coordinator").unwrap();
        c.env_remove("CUSTODIA_COORDINATOR_DIR")
            .env_remove("CUSTODIA_RPC_URL")
            .env_remove("CUSTODIA_RPC_COOKIE")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--rpc-url")
            .arg(url)
            .arg("--rpc-cookie")
            .arg(self.node.cookie_file());
        c
    }

    /// Runs a command that must succeed and returns its stdout as JSON.
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let out = self.cmd().args(args).arg("--json").output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Runs a command that must fail with `code`; returns stderr.
    pub(crate) fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.cmd().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        stderr
    }

    pub(crate) fn balance(&self) -> Value {
        self.json(&["sync"]);
        self.json(&["balance"])
    }
}

/// `propose transfer --from cold --to hot --amount AMOUNT [--fee-rate R] -o OUT`.
pub(crate) fn cold_to_hot<'x>(
    amount: &'x str,
    fee_rate: Option<&'x str>,
    out: &'x str,
) -> Vec<&'x str> {
    let mut args = vec![
        "propose", "transfer", "--from", "cold", "--to", "hot", "--amount", amount,
    ];
    if let Some(rate) = fee_rate {
        args.extend(["--fee-rate", rate]);
    }
    args.extend(["-o", out]);
    args
}

pub(crate) fn sat(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an amount: {v}"))
}

pub(crate) fn init_and_fund(node: &common::Node, coinbases: u64) -> Coord<'_> {
    let c = Coord::new(node);
    let init = c.json(&["init", POLICY]);
    assert_eq!(init["action"], "created");
    for _ in 0..coinbases {
        let a = c.json(&["address", "--tier", "cold"]);
        node.mine_to_descriptor(1, a["descriptor"].as_str().unwrap());
    }
    node.mine_elsewhere(100);
    c
}

pub(crate) fn test_keys() -> toml::Value {
    toml::from_str(&std::fs::read_to_string("tests/data/test-keys.toml").unwrap()).unwrap()
}

/// The cold descriptors (receive, change) with the private key of `key_id`,
/// as a key holder's machine would hold it; for Core's descriptorprocesspsbt.
pub(crate) fn private_descriptors(policy: &VaultPolicy, tier: Tier, key_id: &str) -> Vec<String> {
    let keys = test_keys();
    let entry = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"].as_str() == Some(key_id))
        .unwrap();
    let mnemonic = bip39::Mnemonic::parse(entry["mnemonic"].as_str().unwrap()).unwrap();
    let secp = Secp256k1::new();
    let master = Xpriv::new_master(Network::Regtest, &mnemonic.to_seed("")).unwrap();
    let script = policy.wallet(tier).script();
    let path = custodia::signer::account::account_path(Network::Regtest, script, 0);
    let xprv = master.derive_priv(&secp, &path).unwrap();
    let xpub = bitcoin::bip32::Xpub::from_priv(&secp, &xprv);
    let multipath = policy.descriptor(tier).multipath().to_string();
    let text = multipath.split('#').next().unwrap();
    assert!(
        text.contains(&xpub.to_string()),
        "{key_id} is not in the {tier} wallet"
    );
    let with_private = text.replace(&xpub.to_string(), &xprv.to_string());
    [("0", "2"), ("1", "3")]
        .iter()
        .map(|(main, recovery)| {
            with_private
                .replace("<0;1>", main)
                .replace("<2;3>", recovery)
        })
        .collect()
}

pub(crate) fn approver_keypair(id: &str) -> Keypair {
    let keys = test_keys();
    let entry = keys["approvers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"].as_str() == Some(id))
        .unwrap();
    let secret = SecretKey::from_str(entry["secret_hex"].as_str().unwrap()).unwrap();
    Keypair::from_secret_key(&Secp256k1::new(), &secret)
}

pub(crate) fn read_psbt(path: &Path) -> Psbt {
    Psbt::from_str(std::fs::read_to_string(path).unwrap().trim()).unwrap()
}

/// A key holder signs with Core's descriptorprocesspsbt.
pub(crate) fn sign_with_core(
    node: &common::Node,
    policy: &VaultPolicy,
    tier: Tier,
    key: &str,
    input: &Path,
    out: &Path,
) {
    let psbt = std::fs::read_to_string(input).unwrap();
    let descs: Vec<Value> = private_descriptors(policy, tier, key)
        .into_iter()
        .map(|d| json!(node.with_checksum(&d)))
        .collect();
    let r = node.call(
        "descriptorprocesspsbt",
        &[
            json!(psbt.trim()),
            json!(descs),
            json!("ALL"),
            json!(true),
            json!(false),
        ],
    );
    std::fs::write(out, r["psbt"].as_str().unwrap()).unwrap();
}

/// An approver approves with the psbt module's API.
pub(crate) fn approve(
    policy: &VaultPolicy,
    approver: &str,
    movement: Movement,
    input: &Path,
    out: &Path,
) {
    let mut psbt = read_psbt(input);
    let txid = psbt.unsigned_tx.compute_txid();
    let id = approver.parse().unwrap();
    let approval = sign_approval(policy, txid, movement, &id, &approver_keypair(approver));
    add_approval(policy, &mut psbt, &approval).unwrap();
    std::fs::write(out, psbt.to_string()).unwrap();
}

pub(crate) const PAYEE_1: &str = "bcrt1qn6y5jd4gp208cx6px2crc48dvkc5k3028w88ml";

pub(crate) const PAYEE_2: &str = "bcrt1qgdkc6pm0dca7gv44juwa0ks43u3qe2jehqn8hu";

pub(crate) const PAYEE_3_NOT_ALLOWED: &str = "bcrt1q4z607574hehmxrjqsvg6v8fmds3dfjpeafc4ua";

/// Signs `psbt` with `keys` of `tier`, combines, finalizes, broadcasts and mines.
pub(crate) fn sign_and_send(
    node: &common::Node,
    c: &Coord,
    policy: &VaultPolicy,
    tier: Tier,
    keys: &[&str],
    psbt: &Path,
) -> String {
    let txid = sign_and_broadcast(node, c, policy, tier, keys, psbt);
    node.mine_elsewhere(1);
    txid
}

/// Like [`sign_and_send`] without mining.
pub(crate) fn sign_and_broadcast(
    node: &common::Node,
    c: &Coord,
    policy: &VaultPolicy,
    tier: Tier,
    keys: &[&str],
    psbt: &Path,
) -> String {
    let name = psbt.file_stem().unwrap().to_str().unwrap().to_owned();
    let mut args = vec!["combine".to_owned()];
    for key in keys {
        let out = c.path(&format!("{name}-{key}.psbt"));
        sign_with_core(node, policy, tier, key, psbt, &out);
        args.push(out.to_str().unwrap().to_owned());
    }
    let combined = c.path(&format!("{name}-all.psbt"));
    let hex = c.path(&format!("{name}.hex"));
    args.extend(["-o".to_owned(), combined.to_str().unwrap().to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    c.json(&args);
    c.json(&[
        "finalize",
        combined.to_str().unwrap(),
        "-o",
        hex.to_str().unwrap(),
    ]);
    let sent = c.json(&["broadcast", hex.to_str().unwrap()]);
    sent["txid"].as_str().unwrap().to_owned()
}

pub(crate) fn dead_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

/// custodia-signer on data dir `home` inside the coordinator's scratch dir.
pub(crate) fn signer(c: &Coord, home: &str) -> Command {
    let pass = c.path("signer-pass");
    if !pass.exists() {
        private_file(&pass, "correct horse battery staple");
    }
    let mut cmd = Command::cargo_bin("custodia-signer").unwrap();
    cmd.env_remove("CUSTODIA_SIGNER_DIR")
        .arg("--data-dir")
        .arg(c.path(home))
        .arg("--passphrase-file")
        .arg(pass);
    cmd
}

pub(crate) fn private_file(path: &Path, content: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("{content}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

pub(crate) fn test_entry(section: &str, id: &str, field: &str) -> String {
    test_keys()[section]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"].as_str() == Some(id))
        .unwrap()[field]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A key holder's signer: seed restored from the test words, policy registered.
pub(crate) fn key_holder(c: &Coord, key: &str, policy: &str) {
    let words = c.path(&format!("{key}.words"));
    private_file(&words, &test_entry("keys", key, "mnemonic"));
    signer(c, key)
        .args(["restore", "--network", "regtest", "--words-file"])
        .arg(&words)
        .assert()
        .success();
    signer(c, key)
        .args(["register", policy, "--yes"])
        .assert()
        .success();
}

/// An approver's machine: approval key imported, policy registered.
pub(crate) fn approver_machine(c: &Coord, id: &str, policy: &str) {
    let secret = c.path(&format!("{id}.secret"));
    private_file(&secret, &test_entry("approvers", id, "secret_hex"));
    signer(c, id)
        .args(["approver", "import", "--id", id, "--secret-file"])
        .arg(&secret)
        .assert()
        .success();
    signer(c, id)
        .args(["register", policy, "--yes"])
        .assert()
        .success();
}

/// `who`'s custodia-signer signs `psbt` into `<stem>.<who>.psbt`.
pub(crate) fn sign_as(c: &Coord, who: &str, psbt: &Path) -> PathBuf {
    let out = c.path(&format!(
        "{}.{who}.psbt",
        psbt.file_stem().unwrap().to_str().unwrap()
    ));
    signer(c, who)
        .arg("sign")
        .arg(psbt)
        .arg("-o")
        .arg(&out)
        .arg("--yes")
        .assert()
        .success();
    out
}

/// Approver `who` approves `psbt` into `<stem>.<who>.psbt`.
pub(crate) fn approve_as(c: &Coord, who: &str, psbt: &Path) -> PathBuf {
    let out = c.path(&format!(
        "{}.{who}.psbt",
        psbt.file_stem().unwrap().to_str().unwrap()
    ));
    signer(c, who)
        .arg("approve")
        .arg(psbt)
        .args(["--approver", who, "--yes", "-o"])
        .arg(&out)
        .assert()
        .success();
    out
}

/// `propose payout` of the CSV `rows` into `<name>.psbt`; its path.
pub(crate) fn propose_payout(c: &Coord, name: &str, rows: &str) -> PathBuf {
    let csv = c.path(&format!("{name}.csv"));
    std::fs::write(&csv, rows).unwrap();
    let psbt = c.path(&format!("{name}.psbt"));
    c.json(&[
        "propose",
        "payout",
        "--csv",
        csv.to_str().unwrap(),
        "-o",
        psbt.to_str().unwrap(),
    ]);
    psbt
}

/// `combine` of `files` into `out`.
pub(crate) fn combine_into(c: &Coord, files: &[PathBuf], out: &Path) {
    let mut args = vec!["combine".to_owned()];
    args.extend(files.iter().map(|f| f.to_str().unwrap().to_owned()));
    args.extend(["-o".into(), out.to_str().unwrap().into()]);
    c.json(&args.iter().map(String::as_str).collect::<Vec<_>>());
}

/// `finalize` of `files` into `<name>.hex`; its path.
pub(crate) fn finalize_into(c: &Coord, files: &[PathBuf], name: &str) -> PathBuf {
    let hex = c.path(&format!("{name}.hex"));
    let mut args = vec!["finalize".to_owned()];
    args.extend(files.iter().map(|f| f.to_str().unwrap().to_owned()));
    args.extend(["-o".into(), hex.to_str().unwrap().into()]);
    c.json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    hex
}

/// Finalizes `files` together, broadcasts and mines it.
pub(crate) fn finalize_and_send(node: &common::Node, c: &Coord, files: &[PathBuf], name: &str) {
    let hex = finalize_into(c, files, name);
    c.json(&["broadcast", hex.to_str().unwrap()]);
    node.mine_elsewhere(1);
}

//! The coordinator's chain for `benches/run`, and the plain bdk loop its
//! sync is compared with. Not a criterion benchmark: `benches/run` runs this
//! binary with one of these environment variables set, each with
//! `CUSTODIA_BENCH_RPC_URL` and `CUSTODIA_BENCH_RPC_COOKIE` naming a regtest
//! node without a wallet:
//!
//! - `CUSTODIA_BENCH_CHAIN=DIR` mines, on a node at height 0, 1,000 blocks
//!   holding 10 transactions each that pay the example vault
//!   (`policies/regtest-exchange.toml`): every transaction pays one hot and
//!   one cold address, spread over both chains and every index up to
//!   `max_index` less [`HEADROOM`], so each tier gets 10,000 coins. The coins come
//!   from coinbases mined to a key this program holds, fanned out and signed
//!   here. Writes `DIR/policy.toml` (the example vault with 1,000 payout
//!   addresses allowlisted), `DIR/payouts.csv` (a payment to each of them)
//!   and `DIR/start-height` (the height of the first vault block: the vault's
//!   birth height).
//! - `CUSTODIA_BENCH_EMITTER=DIR` (after the chain) is the baseline of
//!   `custodia-coordinator sync`: bdk wallets of both tiers' descriptors,
//!   created in `DIR` beforehand, then timed: loaded from SQLite, brought to
//!   the tip by a plain `bdk_bitcoind_rpc::Emitter` loop (`next_block`,
//!   `apply_block_connected_to` on both, the mempool), and persisted. Prints
//!   the seconds the wallets took to be created (as plain bdk creates them,
//!   its lookahead the policy's range), then those of the sync.
//! - `CUSTODIA_BENCH_SCAN=DIR` times one `scantxoutset` of both tiers'
//!   descriptors up to `max_index` (what `custodia-auditor balances` asks the
//!   node) and prints the seconds.

use std::path::{Path, PathBuf};
use std::time::Instant;

use bdk_bitcoind_rpc::bitcoincore_rpc::{Auth, Client, RpcApi};
use bdk_bitcoind_rpc::{Emitter, NO_EXPECTED_MEMPOOL_TXS};
use bdk_wallet::rusqlite::Connection;
use bdk_wallet::{KeychainKind, Wallet};
use bitcoin::absolute::LockTime;
use bitcoin::consensus::encode::serialize_hex;
use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::transaction::Version;
use bitcoin::{
    Address, Amount, CompressedPublicKey, Network, OutPoint, ScriptBuf, Sequence, Transaction,
    TxIn, TxOut, WPubkeyHash, Witness,
};
use custodia::policy::{Chain, Tier, VaultPolicy};
use serde_json::{json, Value};

/// Blocks of vault transactions, and transactions in each.
const BLOCKS: usize = 1_000;
const PER_BLOCK: usize = 10;
const TXS: usize = BLOCKS * PER_BLOCK;
/// Coinbases fanned out, and outputs of each fan-out.
const COINBASES: usize = 10;
const FAN_OUT: usize = TXS / COINBASES;
/// Rows of the payout file (and allowlisted addresses).
const PAYOUTS: u32 = 1_000;

/// Indices below `max_index` left unpaid: a proposal's change needs the
/// next change address, which must stay within the range.
const HEADROOM: u32 = 100;

const FUNDING: Amount = Amount::from_sat(4_999_000);
const TO_HOT: Amount = Amount::from_sat(500_000);
const TO_COLD: Amount = Amount::from_sat(4_498_000);

fn client() -> Client {
    let url = std::env::var("CUSTODIA_BENCH_RPC_URL").expect("CUSTODIA_BENCH_RPC_URL");
    let cookie = std::env::var("CUSTODIA_BENCH_RPC_COOKIE").expect("CUSTODIA_BENCH_RPC_COOKIE");
    Client::new(&url, Auth::CookieFile(PathBuf::from(cookie))).expect("rpc client")
}

fn example_policy() -> VaultPolicy {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policies/regtest-exchange.toml"
    );
    VaultPolicy::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Payout address `i`: a P2WPKH of a hash nobody holds the key of (nothing
/// here spends it).
fn payout_address(i: u32) -> Address {
    let hash = WPubkeyHash::hash(&i.to_le_bytes());
    Address::from_script(&ScriptBuf::new_p2wpkh(&hash), Network::Regtest).unwrap()
}

/// The example vault with the payout addresses allowlisted instead of its two.
fn bench_policy() -> String {
    let mut doc: toml_edit::DocumentMut = example_policy().to_toml().parse().unwrap();
    let mut list = toml_edit::Array::new();
    for i in 0..PAYOUTS {
        list.push(payout_address(i).to_string());
    }
    doc["rules"]["payouts"]["allowlist"] = toml_edit::value(list);
    let text = doc.to_string();
    VaultPolicy::from_toml(&text).expect("the bench policy is valid");
    text
}

/// One output script per (chain, index) of a tier, every index up to
/// `max_index` less the headroom.
fn tier_scripts(policy: &VaultPolicy, tier: Tier) -> Vec<ScriptBuf> {
    let max = policy.rules().addresses().max_index() - HEADROOM;
    (0..=max)
        .flat_map(|i| [Chain::Receive, Chain::Change].map(|c| (c, i)))
        .map(|(c, i)| policy.descriptor(tier).script_pubkey(c, i))
        .collect()
}

/// A transaction spending one P2WPKH coin of `key`, signed.
fn signed(
    key: &SecretKey,
    spk: &ScriptBuf,
    coin: OutPoint,
    value: Amount,
    outputs: Vec<TxOut>,
) -> Transaction {
    let secp = Secp256k1::signing_only();
    let mut tx = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: coin,
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::new(),
        }],
        output: outputs,
    };
    let sighash = SighashCache::new(&tx)
        .p2wpkh_signature_hash(0, spk, value, EcdsaSighashType::All)
        .unwrap();
    let sig = bitcoin::ecdsa::Signature::sighash_all(
        secp.sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), key),
    );
    let pk = CompressedPublicKey::from_private_key(
        &secp,
        &bitcoin::PrivateKey::new(*key, Network::Regtest),
    )
    .unwrap();
    tx.input[0].witness = Witness::p2wpkh(&sig, &pk.0);
    tx
}

fn generate_block(rpc: &Client, to: &Address, txs: &[Transaction]) {
    let hexes: Vec<String> = txs.iter().map(serialize_hex).collect();
    let _: Value = rpc
        .call("generateblock", &[json!(to.to_string()), json!(hexes)])
        .expect("generateblock");
}

fn make_chain(dir: &Path) {
    let rpc = client();
    assert_eq!(rpc.get_block_count().unwrap(), 0, "the node must be fresh");
    let policy_text = bench_policy();
    let policy = VaultPolicy::from_toml(&policy_text).unwrap();
    std::fs::write(dir.join("policy.toml"), &policy_text).unwrap();

    let key = SecretKey::from_slice(&[0x11; 32]).unwrap();
    let pk = CompressedPublicKey::from_private_key(
        &Secp256k1::signing_only(),
        &bitcoin::PrivateKey::new(key, Network::Regtest),
    )
    .unwrap();
    let funder = Address::p2wpkh(&pk, Network::Regtest);
    let spk = funder.script_pubkey();

    // Coinbases at heights 1..=COINBASES, mature at the next block.
    let _: Value = rpc
        .call(
            "generatetoaddress",
            &[json!(100 + COINBASES), json!(funder.to_string())],
        )
        .unwrap();
    let fan_outs: Vec<Transaction> = (1..=COINBASES as u64)
        .map(|h| {
            let block = rpc.get_block(&rpc.get_block_hash(h).unwrap()).unwrap();
            let coinbase = &block.txdata[0];
            assert_eq!(coinbase.output[0].script_pubkey, spk);
            let outputs = vec![
                TxOut {
                    value: FUNDING,
                    script_pubkey: spk.clone(),
                };
                FAN_OUT
            ];
            signed(
                &key,
                &spk,
                OutPoint::new(coinbase.compute_txid(), 0),
                coinbase.output[0].value,
                outputs,
            )
        })
        .collect();
    generate_block(&rpc, &funder, &fan_outs);
    let start_height = rpc.get_block_count().unwrap() + 1;

    // Tx k pays hot script k and cold script 7k+3 (mod the scripts of a
    // tier): every address paid of both chains of both tiers is paid five or
    // six times.
    let hot = tier_scripts(&policy, Tier::Hot);
    let cold = tier_scripts(&policy, Tier::Cold);
    let vault_txs: Vec<Transaction> = (0..TXS)
        .map(|k| {
            let coin = OutPoint::new(fan_outs[k / FAN_OUT].compute_txid(), (k % FAN_OUT) as u32);
            let outputs = vec![
                TxOut {
                    value: TO_HOT,
                    script_pubkey: hot[k % hot.len()].clone(),
                },
                TxOut {
                    value: TO_COLD,
                    script_pubkey: cold[(7 * k + 3) % cold.len()].clone(),
                },
            ];
            signed(&key, &spk, coin, FUNDING, outputs)
        })
        .collect();
    for block in vault_txs.chunks(PER_BLOCK) {
        generate_block(&rpc, &funder, block);
    }
    std::fs::write(dir.join("start-height"), start_height.to_string()).unwrap();

    let mut csv = String::from("address,amount\n");
    for i in 0..PAYOUTS {
        csv.push_str(&format!(
            "{},{} sat\n",
            payout_address(i),
            10_000 + u64::from(i)
        ));
    }
    std::fs::write(dir.join("payouts.csv"), csv).unwrap();
    eprintln!(
        "chain: {TXS} vault transactions in {BLOCKS} blocks from height {start_height} to {}",
        rpc.get_block_count().unwrap()
    );
}

fn descriptors(policy: &VaultPolicy, tier: Tier) -> (String, String) {
    let d = policy.descriptor(tier);
    (
        d.chain(Chain::Receive).to_string(),
        d.chain(Chain::Change).to_string(),
    )
}

/// The wallets as `custodia-coordinator init` leaves them: the lookahead
/// covers every index up to `max_index`, the scripts cached in the database.
fn wallet_db(dir: &Path, tier: Tier) -> PathBuf {
    dir.join(format!("baseline-{tier}.sqlite"))
}

fn emitter_baseline(dir: &Path) {
    let policy_text = std::fs::read_to_string(dir.join("policy.toml")).unwrap();
    let policy = VaultPolicy::from_toml(&policy_text).unwrap();
    for tier in Tier::ALL {
        // Left by an earlier run.
        let _ = std::fs::remove_file(wallet_db(dir, tier));
    }
    let start_height: u32 = std::fs::read_to_string(dir.join("start-height"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let lookahead = policy.rules().addresses().max_index() + 1;
    let created = Instant::now();
    for tier in Tier::ALL {
        let (receive, change) = descriptors(&policy, tier);
        let mut conn = Connection::open(wallet_db(dir, tier)).unwrap();
        Wallet::create(receive, change)
            .network(policy.network())
            .lookahead(lookahead)
            .use_spk_cache(true)
            .create_wallet(&mut conn)
            .unwrap();
    }
    let create_seconds = created.elapsed().as_secs_f64();

    let rpc = client();
    let t0 = Instant::now();
    let mut wallets: Vec<_> = Tier::ALL
        .into_iter()
        .map(|tier| {
            let (receive, change) = descriptors(&policy, tier);
            let mut conn = Connection::open(wallet_db(dir, tier)).unwrap();
            let wallet = Wallet::load()
                .descriptor(KeychainKind::External, Some(receive))
                .descriptor(KeychainKind::Internal, Some(change))
                .check_network(policy.network())
                .lookahead(lookahead)
                .use_spk_cache(true)
                .load_wallet(&mut conn)
                .unwrap()
                .unwrap();
            (conn, wallet)
        })
        .collect();
    let mut emitter = Emitter::new(
        &rpc,
        wallets[0].1.latest_checkpoint(),
        start_height,
        NO_EXPECTED_MEMPOOL_TXS,
    );
    let mut blocks = 0;
    while let Some(event) = emitter.next_block().unwrap() {
        for (_, wallet) in wallets.iter_mut() {
            wallet
                .apply_block_connected_to(&event.block, event.block_height(), event.connected_to())
                .unwrap();
        }
        blocks += 1;
    }
    let mempool = emitter.mempool().unwrap();
    for (conn, wallet) in wallets.iter_mut() {
        wallet.apply_evicted_txs(mempool.evicted.clone());
        wallet.apply_unconfirmed_txs(mempool.update.clone());
        wallet.persist(conn).unwrap();
    }
    let seconds = t0.elapsed().as_secs_f64();
    let coins: usize = wallets.iter().map(|(_, w)| w.list_unspent().count()).sum();
    assert_eq!(coins, 2 * TXS, "the baseline must see every vault coin");
    eprintln!("emitter baseline: {blocks} blocks, {coins} coins");
    println!("{create_seconds} {seconds}");
}

fn scan_baseline(dir: &Path) {
    let policy_text = std::fs::read_to_string(dir.join("policy.toml")).unwrap();
    let policy = VaultPolicy::from_toml(&policy_text).unwrap();
    let max = policy.rules().addresses().max_index();
    let objects: Vec<Value> = Tier::ALL
        .into_iter()
        .flat_map(|tier| {
            let (receive, change) = descriptors(&policy, tier);
            [receive, change]
        })
        .map(|desc| json!({ "desc": desc, "range": [0, max] }))
        .collect();
    let rpc = client();
    let t0 = Instant::now();
    let result: Value = rpc
        .call("scantxoutset", &[json!("start"), json!(objects)])
        .unwrap();
    let seconds = t0.elapsed().as_secs_f64();
    let coins = result["unspents"].as_array().map_or(0, Vec::len);
    assert_eq!(coins, 2 * TXS, "the scan must find every vault coin");
    println!("{seconds}");
}

fn main() {
    let dir = |var: &str| std::env::var_os(var).map(PathBuf::from);
    if let Some(d) = dir("CUSTODIA_BENCH_CHAIN") {
        make_chain(&d);
    } else if let Some(d) = dir("CUSTODIA_BENCH_EMITTER") {
        emitter_baseline(&d);
    } else if let Some(d) = dir("CUSTODIA_BENCH_SCAN") {
        scan_baseline(&d);
    } else {
        eprintln!("a helper of benches/run: set CUSTODIA_BENCH_CHAIN, CUSTODIA_BENCH_EMITTER or CUSTODIA_BENCH_SCAN (see the source)");
        std::process::exit(2);
    }
}

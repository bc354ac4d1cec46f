//! Reviewing and signing large 2-of-3 P2WSH PSBTs (hot wallet consolidations
//! of 1,000 and 10,000 inputs, each with its full previous transaction).
//! Signing must grow linearly with the number of inputs.
//!
//! `cargo bench --bench signing` runs the criterion benchmarks. Two
//! environment variables turn the binary into a helper for
//! `benches/compare-core.sh` instead:
//! - `CUSTODIA_BENCH_EXPORT=DIR` writes `DIR/psbt-N.b64` for both sizes and
//!   `DIR/hot-1.desc`, a private receive descriptor of the hot wallet with
//!   key hot-1, for Bitcoin Core's `descriptorprocesspsbt`;
//! - `CUSTODIA_BENCH_SIGN=FILE` reads, reviews and signs FILE as hot-1 once
//!   and prints the milliseconds it took.

use std::time::Instant;

use bitcoin::bip32::Xpub;
use bitcoin::secp256k1::Secp256k1;
use bitcoin::{Amount, Psbt};
use criterion::{criterion_group, BenchmarkId, Criterion};
use custodia::policy::{Chain, Tier, VaultPolicy};
use custodia::psbt::{DailySpending, LimitScope, PsbtDocument, Review, SignablePsbt};
use custodia::signer::signing::sign_psbt;

#[path = "../tests/signer_fixtures/mod.rs"]
mod signer_fixtures;
use signer_fixtures::{at, master, master_xpriv, policy, spend, To};

const SIZES: [u32; 2] = [1_000, 10_000];

fn consolidation(policy: &VaultPolicy, n: u32) -> Psbt {
    let inputs: Vec<_> = (0..n)
        .map(|i| (at(Tier::Hot, 0, i), Amount::from_sat(100_000)))
        .collect();
    let total = u64::from(n) * 100_000;
    spend(
        policy,
        &inputs,
        &[(
            To::Vault(at(Tier::Hot, 1, 0)),
            Amount::from_sat(total - 900_000),
        )],
    )
}

fn review(policy: &VaultPolicy, psbt: &Psbt) -> Review {
    let r = Review::of(policy, psbt, &DailySpending::empty(LimitScope::Signer, 0));
    assert!(r.passes(), "{}", r.to_text());
    r
}

fn signable(policy: &VaultPolicy, psbt: &Psbt) -> SignablePsbt {
    SignablePsbt::check(
        policy,
        psbt.clone(),
        &DailySpending::empty(LimitScope::Signer, 0),
    )
    .map_err(|r| r.review().to_text())
    .unwrap()
}

fn benches(c: &mut Criterion) {
    let policy = policy("regtest-exchange");
    let key = master("hot-1");
    let mut group = c.benchmark_group("2-of-3 wsh");
    group.sample_size(10);
    for n in SIZES {
        let psbt = consolidation(&policy, n);
        group.bench_with_input(BenchmarkId::new("review", n), &psbt, |b, psbt| {
            b.iter(|| review(&policy, psbt))
        });
        let checked = signable(&policy, &psbt);
        group.bench_with_input(BenchmarkId::new("sign", n), &checked, |b, checked| {
            b.iter(|| sign_psbt(checked, &key).unwrap())
        });
    }
    group.finish();
}

criterion_group!(signing, benches);

/// The private receive descriptor of the hot wallet with hot-1's account key.
fn private_descriptor(policy: &VaultPolicy) -> String {
    let secp = Secp256k1::new();
    let hot1 = policy.key(&"hot-1".parse().unwrap()).unwrap().xpub();
    let account = master_xpriv("hot-1")
        .derive_priv(&secp, hot1.path())
        .unwrap();
    assert_eq!(Xpub::from_priv(&secp, &account), *hot1.xpub());
    let public = policy
        .descriptor(Tier::Hot)
        .chain(Chain::Receive)
        .to_string();
    let public = public.split('#').next().unwrap().to_owned();
    public.replace(&hot1.xpub().to_string(), &account.to_string())
}

fn export(dir: &str) {
    let policy = policy("regtest-exchange");
    std::fs::create_dir_all(dir).unwrap();
    for n in SIZES {
        let psbt = consolidation(&policy, n);
        std::fs::write(format!("{dir}/psbt-{n}.b64"), psbt.to_string()).unwrap();
    }
    std::fs::write(format!("{dir}/hot-1.desc"), private_descriptor(&policy)).unwrap();
}

fn sign_once(file: &str) {
    let policy = policy("regtest-exchange");
    let key = master("hot-1");
    let data = std::fs::read(file).unwrap();
    let start = Instant::now();
    let doc = PsbtDocument::from_bytes(&data).unwrap();
    let read = start.elapsed().as_millis();
    let checked = signable(&policy, doc.psbt());
    let reviewed = start.elapsed().as_millis();
    let psbt = sign_psbt(&checked, &key).unwrap().psbt;
    let signed = start.elapsed().as_millis();
    let bytes = doc.encode(&psbt, doc.encoding()).unwrap();
    let ms = start.elapsed().as_millis();
    eprintln!(
        "read {read} ms, review {} ms, sign {} ms, write {} ms",
        reviewed - read,
        signed - reviewed,
        ms - signed
    );
    assert!(!bytes.is_empty());
    println!("{ms}");
}

fn main() {
    if let Ok(dir) = std::env::var("CUSTODIA_BENCH_EXPORT") {
        return export(&dir);
    }
    if let Ok(file) = std::env::var("CUSTODIA_BENCH_SIGN") {
        return sign_once(&file);
    }
    signing();
    Criterion::default().configure_from_args().final_summary();
}

//! Reviewing and signing large 2-of-3 P2WSH PSBTs (hot wallet consolidations
//! of 1,000 and 10,000 inputs, each with its full previous transaction).
//! Signing must grow linearly with the number of inputs.
//!
//! `cargo bench --bench signing` runs the criterion benchmarks. An
//! environment variable turns the binary into a helper for `benches/run`
//! instead:
//! - `CUSTODIA_BENCH_EXPORT=DIR` writes `DIR/psbt-{wsh,tr}-N.b64` for both
//!   sizes, of the P2WSH and the taproot example vault with their address
//!   range raised to 10,000 (`DIR/policy-{wsh,tr}.toml`), and
//!   `DIR/hot-1-{wsh,tr}.desc`, private receive descriptors of their hot
//!   wallets with key hot-1, for Bitcoin Core's `descriptorprocesspsbt`.

use bitcoin::bip32::Xpub;
use bitcoin::secp256k1::Secp256k1;
use bitcoin::{Amount, Psbt};
use criterion::{criterion_group, BenchmarkId, Criterion};
use custodia::policy::{Chain, Tier, VaultPolicy};
use custodia::psbt::{DailySpending, LimitScope, Review, SignablePsbt};
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

/// The vaults `benches/run` compares: (policy, tag in file names).
const VAULTS: [(&str, &str); 2] = [("regtest-exchange", "wsh"), ("regtest-taproot", "tr")];

fn export(dir: &str) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, tag) in VAULTS {
        // 10,000 inputs at 10,000 addresses: the example vault's address
        // range (1,000) raised to 10,000, written beside the PSBTs for the
        // signer to register.
        let text = policy(name).to_toml();
        assert!(text.contains("max_index = 1000\n"), "{text}");
        let text = text.replace("max_index = 1000\n", "max_index = 10000\n");
        let policy = VaultPolicy::from_toml(&text).unwrap();
        std::fs::write(format!("{dir}/policy-{tag}.toml"), &text).unwrap();
        for n in SIZES {
            let psbt = consolidation(&policy, n);
            std::fs::write(format!("{dir}/psbt-{tag}-{n}.b64"), psbt.to_string()).unwrap();
        }
        std::fs::write(
            format!("{dir}/hot-1-{tag}.desc"),
            private_descriptor(&policy),
        )
        .unwrap();
    }
}

fn main() {
    if let Ok(dir) = std::env::var("CUSTODIA_BENCH_EXPORT") {
        return export(&dir);
    }
    signing();
    Criterion::default().configure_from_args().final_summary();
}

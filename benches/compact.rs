//! Compact PSBTs for QR transfers: bytes of full and compact consolidations
//! (1, 100 and 1,000 inputs, P2WSH and taproot, cold and hot), and the time
//! to strip and to re-fill them.
//!
//! `cargo bench --bench compact` prints the size table first, then runs the
//! criterion benchmarks of strip and re-fill for the taproot cold wallet.

use bitcoin::{Amount, Psbt};
use criterion::{criterion_group, BenchmarkId, Criterion};
use custodia::policy::{Tier, VaultPolicy};
use custodia::psbt::compact::{refill, strip};

#[path = "../tests/signer_fixtures/mod.rs"]
mod signer_fixtures;
use signer_fixtures::{at, policy, spend, To};

const SIZES: [u32; 3] = [1, 100, 1_000];

/// `n` coins of `tier` to a payment to the other tier and change.
fn consolidation(policy: &VaultPolicy, tier: Tier, n: u32) -> Psbt {
    let inputs: Vec<_> = (0..n)
        .map(|i| (at(tier, 0, i), Amount::from_sat(1_000_000)))
        .collect();
    let total = u64::from(n) * 1_000_000;
    spend(
        policy,
        &inputs,
        &[
            (
                To::Vault(at(tier.other(), 0, 5)),
                Amount::from_sat(total / 2),
            ),
            (
                To::Vault(at(tier, 1, 9)),
                Amount::from_sat(total / 2 - 50_000),
            ),
        ],
    )
}

fn print_sizes() {
    println!("| vault | wallet | inputs | full bytes | compact bytes | ratio |");
    println!("|---|---|---:|---:|---:|---:|");
    for name in ["regtest-exchange", "regtest-taproot"] {
        let policy = policy(name);
        for tier in Tier::ALL {
            for n in SIZES {
                let psbt = consolidation(&policy, tier, n);
                let full = psbt.serialize().len();
                let compact = strip(&psbt, &policy).unwrap().serialize().len();
                println!(
                    "| {name} | {tier} | {n} | {full} | {compact} | {:.1}x |",
                    full as f64 / compact as f64
                );
            }
        }
    }
}

fn benches(c: &mut Criterion) {
    print_sizes();
    let policy = policy("regtest-taproot");
    let mut group = c.benchmark_group("3-of-5 tr compact");
    group.sample_size(10);
    for n in [100, 1_000] {
        let psbt = consolidation(&policy, Tier::Cold, n);
        group.bench_with_input(BenchmarkId::new("strip", n), &psbt, |b, psbt| {
            b.iter(|| strip(psbt, &policy).unwrap())
        });
        let compact = strip(&psbt, &policy).unwrap();
        group.bench_with_input(BenchmarkId::new("refill", n), &compact, |b, compact| {
            b.iter(|| refill(compact, &policy).unwrap())
        });
    }
    group.finish();
}

criterion_group!(compact, benches);

fn main() {
    compact();
    Criterion::default().configure_from_args().final_summary();
}

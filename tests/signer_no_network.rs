//! The signer links no network code: built without default features (the
//! way `custodia-signer` is built for the offline laptop), the package's
//! dependency tree holds no RPC, HTTP, Electrum, Esplora or async runtime
//! crate. `cargo tree` cannot select one binary; the package's normal
//! dependencies are a superset of what `custodia-signer` links, so checking
//! them is stricter.

use std::collections::BTreeSet;
use std::process::Command;

/// Crates that talk to a network or run async I/O, by name prefix.
const FORBIDDEN: &[&str] = &[
    "bitcoincore-rpc",
    "bdk_bitcoind_rpc",
    "bdk_electrum",
    "bdk_esplora",
    "electrum-client",
    "esplora-client",
    "jsonrpc",
    "reqwest",
    "hyper",
    "h2",
    "ureq",
    "minreq",
    "curl",
    "isahc",
    "surf",
    "tungstenite",
    "tokio",
    "async-std",
    "async-io",
    "smol",
    "mio",
    "socket2",
    "rustls",
    "native-tls",
    "openssl",
];

/// Crate names in the normal dependency tree for `features` arguments.
fn crate_names(features: &[&str]) -> BTreeSet<String> {
    let out = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .args(features)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn forbidden_in(names: &BTreeSet<String>) -> Vec<&String> {
    names
        .iter()
        .filter(|n| {
            FORBIDDEN.iter().any(|f| {
                n.as_str() == *f
                    || n.starts_with(&format!("{f}-"))
                    || n.starts_with(&format!("{f}_"))
            })
        })
        .collect()
}

#[test]
fn signer_build_has_no_network_crate() {
    let offline = crate_names(&["--no-default-features"]);
    // The tree is real: the signer's own crypto is in it.
    for needed in ["custodia", "bitcoin", "miniscript", "age", "bip39"] {
        assert!(
            offline.contains(needed),
            "{needed} missing from {offline:?}"
        );
    }
    let found = forbidden_in(&offline);
    assert!(
        found.is_empty(),
        "network crates in the signer's build (--no-default-features): {found:?}; \
         put them behind the `online` feature"
    );
}

#[test]
fn the_check_would_catch_the_online_build() {
    // With the default `online` feature the node client is in the tree, so
    // the filter above is known to see it.
    let online = crate_names(&[]);
    let found = forbidden_in(&online);
    assert!(
        found.iter().any(|n| n.as_str() == "bdk_bitcoind_rpc"),
        "expected the online build to hold bdk_bitcoind_rpc, found {found:?}"
    );
}

//! BIP-48 account keys: which path a key holder's account key sits on, and the
//! `[fingerprint/path]xpub` a policy needs from it.

use bitcoin::bip32::{ChildNumber, DerivationPath, Xpriv, Xpub};
use bitcoin::secp256k1::{Secp256k1, Signing};
use bitcoin::{Network, NetworkKind};

use crate::policy::{OriginXpub, ScriptKind};

/// `m/48'/coin'/account'/script'`, coin 0 on mainnet and 1 elsewhere.
pub fn account_path(network: Network, script: ScriptKind, account: u32) -> DerivationPath {
    let coin = crate::policy::bip48_coin_type(network);
    [48, coin, account, script.bip48_script_type()]
        .into_iter()
        .map(|i| ChildNumber::from_hardened_idx(i).expect("small indexes are valid"))
        .collect::<Vec<_>>()
        .into()
}

/// The account xpub with origin, ready to paste into a policy.
pub fn account_xpub<C: Signing>(
    secp: &Secp256k1<C>,
    master: &Xpriv,
    script: ScriptKind,
    account: u32,
) -> OriginXpub {
    let network = match master.network {
        NetworkKind::Main => Network::Bitcoin,
        NetworkKind::Test => Network::Testnet,
    };
    let path = account_path(network, script, account);
    let mut xpriv = master
        .derive_priv(secp, &path)
        .expect("hardened derivation from a valid key succeeds");
    let xpub = Xpub::from_priv(secp, &xpriv);
    xpriv.private_key.non_secure_erase();
    format!(
        "[{}/{}]{}",
        master.fingerprint(secp),
        path_text(&path),
        xpub
    )
    .parse()
    .expect("an origin xpub we formatted parses")
}

fn path_text(path: &DerivationPath) -> String {
    path.into_iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join("/")
}

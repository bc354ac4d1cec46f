//! A cosigner's account key from the file their device or signer exported:
//! Coldcard's multisig export (`ccxp-XFP.json`: `p2wsh`/`p2tr` with their
//! derivations) or generic export (`bip48_2`), `custodia-signer xpub --json`,
//! or a key expression or one-key descriptor as Sparrow and Keystone show it
//! (`[fp/48h/1h/0h/2h]tpub…`, with or without `/<0;1>/*`).
//!
//! Whatever the source, the key must be a BIP-48 account key of the vault's
//! network and of the wallet's script type: `m/48'/coin'/account'/script'`,
//! coin 0' on bitcoin and 1' elsewhere, script 2' for wsh and 3' for tr, and
//! an xpub whose depth is that path's. A file made for another network or
//! another kind of wallet is refused before it reaches a policy.

use std::str::FromStr;

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, Xpub};
use bitcoin::{Network, NetworkKind};
use miniscript::descriptor::{Descriptor, DescriptorPublicKey, DescriptorXKey, Wildcard};
use miniscript::ForEachKey;
use serde_json::Value;

use super::slip132::parse_xpub;
use super::{parse_network, OriginXpub, ScriptKind};
use crate::error::{Classify, ExitCode};

/// Which kind of file the key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CosignerSource {
    /// `custodia-signer xpub --json`.
    CustodiaSigner,
    /// Coldcard's multisig export (`p2wsh_deriv`, `p2wsh`, `xfp`).
    ColdcardMultisig,
    /// Coldcard's generic JSON export (`bip48_2`).
    ColdcardGeneric,
    /// A key expression or a descriptor holding one key.
    KeyExpression,
}

impl std::fmt::Display for CosignerSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CosignerSource::CustodiaSigner => "custodia-signer xpub export",
            CosignerSource::ColdcardMultisig => "Coldcard multisig export",
            CosignerSource::ColdcardGeneric => "Coldcard generic export",
            CosignerSource::KeyExpression => "key expression",
        })
    }
}

/// Why a cosigner file gives no usable key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignerError {
    /// Neither JSON of a known shape nor a key expression.
    #[error("not a cosigner export custodia knows: {0}. Use Coldcard's multisig or generic JSON export, `custodia-signer xpub --json`, or a line `[fingerprint/48'/1'/0'/2']tpub…`")]
    UnknownFormat(String),
    /// The file has no key for the wallet's script type.
    #[error("the file has no {0} multisig key; export the device's key for that script type")]
    NoKeyForScript(ScriptKind),
    /// A field holds something that is not what it should be.
    #[error("field `{field}`: {problem}")]
    Field {
        /// Which field.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// A descriptor with more than one key.
    #[error("the descriptor names {0} keys; give one cosigner's key")]
    ManyKeys(usize),
    /// The key has no origin, so no signer could find itself in the policy.
    #[error("the key has no origin `[fingerprint/path]`; export it with its origin")]
    MissingOrigin,
    /// A key with a derivation suffix other than the receive/change chains.
    #[error(
        "the key ends in a derivation `{0}`; give the account key, optionally followed by /<0;1>/*"
    )]
    Suffix(String),
    /// Made for another network.
    #[error(
        "the key is for {found}, the policy for {expected}: use the device's export for {expected}"
    )]
    WrongNetwork {
        /// The policy's network.
        expected: Network,
        /// What the file says.
        found: String,
    },
    /// Not a BIP-48 account of this network and script.
    #[error("derivation m/{found} is not the BIP-48 account path {expected} of a {script} multisig on {network}: export the key for that wallet type")]
    WrongPath {
        /// What the file says.
        found: String,
        /// What the path should look like.
        expected: String,
        /// The wallet's script.
        script: ScriptKind,
        /// The policy's network.
        network: Network,
    },
    /// The xpub is not at the depth its origin claims.
    #[error("the xpub is at depth {depth}, but its origin path has {steps} steps: the origin does not belong to this key")]
    Depth {
        /// The xpub's depth.
        depth: u8,
        /// Steps of the origin path.
        steps: usize,
    },
}

impl Classify for CosignerError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::BadInput
    }
}

/// A cosigner's account key, checked for the vault's network and script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignerKey {
    /// The key as the policy writes it.
    pub xpub: OriginXpub,
    /// The kind of file it came from.
    pub source: CosignerSource,
}

/// Reads a cosigner's key for a `script` wallet of a `network` vault.
pub fn read_cosigner(
    text: &str,
    network: Network,
    script: ScriptKind,
) -> Result<CosignerKey, CosignerError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    let (xpub, source) = if trimmed.starts_with('{') {
        let json: Value = serde_json::from_str(trimmed)
            .map_err(|e| CosignerError::UnknownFormat(format!("JSON that does not parse ({e})")))?;
        from_json(&json, network, script)?
    } else {
        (from_key_text(trimmed)?, CosignerSource::KeyExpression)
    };
    check_account(&xpub, network, script)?;
    Ok(CosignerKey { xpub, source })
}

fn from_json(
    json: &Value,
    network: Network,
    script: ScriptKind,
) -> Result<(OriginXpub, CosignerSource), CosignerError> {
    let field = |name: &str| json.get(name).and_then(Value::as_str);
    if let (Some(wsh), Some(tr), Some(net)) = (field("wsh"), field("tr"), field("network")) {
        let found = parse_network(net).map_err(|e| CosignerError::Field {
            field: "network".into(),
            problem: e.to_string(),
        })?;
        if found != network {
            return Err(CosignerError::WrongNetwork {
                expected: network,
                found: net.to_owned(),
            });
        }
        let text = match script {
            ScriptKind::Wsh => wsh,
            ScriptKind::Tr => tr,
        };
        return Ok((from_key_text(text)?, CosignerSource::CustodiaSigner));
    }
    let Some(xfp) = field("xfp") else {
        return Err(CosignerError::UnknownFormat(
            "JSON without `xfp` (Coldcard) or `wsh`/`tr`/`network` (custodia-signer)".into(),
        ));
    };
    let fingerprint = Fingerprint::from_str(xfp).map_err(|e| CosignerError::Field {
        field: "xfp".into(),
        problem: e.to_string(),
    })?;
    let name = match script {
        ScriptKind::Wsh => "p2wsh",
        ScriptKind::Tr => "p2tr",
    };
    let deriv_name = format!("{name}_deriv");
    if let (Some(key), Some(deriv)) = (field(name), field(&deriv_name)) {
        let key = origin_key(fingerprint, (&deriv_name, deriv), (name, key))?;
        return Ok((key, CosignerSource::ColdcardMultisig));
    }
    if let (ScriptKind::Wsh, Some(section)) = (script, json.get("bip48_2")) {
        let get = |n: &str| section.get(n).and_then(Value::as_str);
        if let (Some(key), Some(deriv)) = (get("xpub"), get("deriv")) {
            let key = origin_key(fingerprint, ("bip48_2.deriv", deriv), ("bip48_2.xpub", key))?;
            return Ok((key, CosignerSource::ColdcardGeneric));
        }
    }
    Err(CosignerError::NoKeyForScript(script))
}

fn origin_key(
    fingerprint: Fingerprint,
    (deriv_field, deriv): (&str, &str),
    (key_field, key): (&str, &str),
) -> Result<OriginXpub, CosignerError> {
    let path = DerivationPath::from_str(deriv).map_err(|e| CosignerError::Field {
        field: deriv_field.into(),
        problem: e.to_string(),
    })?;
    let xpub = parse_xpub(key).map_err(|problem| CosignerError::Field {
        field: key_field.into(),
        problem,
    })?;
    Ok(OriginXpub::new(fingerprint, path, xpub))
}

/// A key expression, or a descriptor holding exactly one key; `#` comment
/// lines and blank lines around it are skipped.
fn from_key_text(text: &str) -> Result<OriginXpub, CosignerError> {
    let body: String = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let key = if body.contains('(') {
        let descriptor = Descriptor::<DescriptorPublicKey>::from_str(&body).map_err(|e| {
            CosignerError::UnknownFormat(format!("a descriptor that does not parse ({e})"))
        })?;
        let mut keys = Vec::new();
        descriptor.for_each_key(|k| {
            keys.push(k.clone());
            true
        });
        if keys.len() != 1 {
            return Err(CosignerError::ManyKeys(keys.len()));
        }
        keys.pop().expect("one key")
    } else {
        DescriptorPublicKey::from_str(&body)
            .map_err(|e| CosignerError::UnknownFormat(format!("not a key expression ({e})")))?
    };
    let (origin, xkey, suffix, wildcard) = match key {
        DescriptorPublicKey::XPub(DescriptorXKey {
            origin,
            xkey,
            derivation_path,
            wildcard,
        }) => (origin, xkey, vec![derivation_path], wildcard),
        DescriptorPublicKey::MultiXPub(x) => (
            x.origin,
            x.xkey,
            x.derivation_paths.into_paths(),
            x.wildcard,
        ),
        DescriptorPublicKey::Single(_) => {
            return Err(CosignerError::UnknownFormat(
                "a single public key, not an extended key".into(),
            ))
        }
    };
    let chains_only = suffix.iter().all(|p| {
        p.is_empty()
            || (wildcard == Wildcard::Unhardened
                && matches!(p.as_ref(), [ChildNumber::Normal { index: 0 | 1 }]))
    });
    if !chains_only {
        let shown: Vec<String> = suffix.iter().map(|p| p.to_string()).collect();
        return Err(CosignerError::Suffix(shown.join(";")));
    }
    let (fingerprint, path) = origin.ok_or(CosignerError::MissingOrigin)?;
    Ok(OriginXpub::new(fingerprint, path, xkey))
}

fn check_account(
    key: &OriginXpub,
    network: Network,
    script: ScriptKind,
) -> Result<(), CosignerError> {
    let xpub: &Xpub = key.xpub();
    let expected_kind = NetworkKind::from(network);
    if xpub.network != expected_kind {
        let found = match xpub.network {
            NetworkKind::Main => "bitcoin (mainnet)",
            NetworkKind::Test => "a test network",
        };
        return Err(CosignerError::WrongNetwork {
            expected: network,
            found: found.into(),
        });
    }
    let coin = super::bip48_coin_type(network);
    let steps: Vec<ChildNumber> = key.path().into_iter().copied().collect();
    let bip48 = matches!(
        steps[..],
        [
            ChildNumber::Hardened { index: 48 },
            ChildNumber::Hardened { index: c },
            ChildNumber::Hardened { .. },
            ChildNumber::Hardened { index: s },
        ] if c == coin && s == script.bip48_script_type()
    );
    if !bip48 {
        return Err(CosignerError::WrongPath {
            found: key.path().to_string(),
            expected: format!("m/48'/{coin}'/ACCOUNT'/{}'", script.bip48_script_type()),
            script,
            network,
        });
    }
    if usize::from(xpub.depth) != steps.len() {
        return Err(CosignerError::Depth {
            depth: xpub.depth,
            steps: steps.len(),
        });
    }
    Ok(())
}

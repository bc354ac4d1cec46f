//! Coldcard's multisig setup file, which Coldcard, Passport and Keystone
//! import to register a wallet, so that the device itself recognises the
//! vault's change outputs and shows the quorum it signs for.
//!
//! ```text
//! Name: exchange-main-cold
//! Policy: 3 of 5
//! Derivation: m/48'/1'/0'/2'
//! Format: P2WSH
//!
//! 02A6288E: tpubDEEhnx...
//! ```
//!
//! A `Derivation:` line applies to the keys after it, so keys on different
//! accounts each get their own. The file describes `sortedmulti` only.

use std::str::FromStr;

use bitcoin::bip32::{DerivationPath, Fingerprint};
use miniscript::descriptor::{Descriptor, DescriptorPublicKey};

use super::{provenance, shape, ExportError};
use crate::error::{Classify, ExitCode};
use crate::policy::slip132::parse_xpub;
use crate::policy::{OriginXpub, Tier, VaultPolicy, MAIN_CHAINS};

/// Longest wallet name a Coldcard accepts.
pub const MAX_NAME: usize = 20;

/// The setup file of one tier.
pub fn write(policy: &VaultPolicy, tier: Tier) -> Result<String, ExportError> {
    if let Some(what) = shape(policy, tier) {
        return Err(ExportError::ColdcardNeedsSortedMulti { tier, what });
    }
    let wallet = policy.wallet(tier);
    let mut out = format!(
        "# Coldcard Multisig setup file (written by custodia)\n# {}\n#\nName: {}\nPolicy: {} of {}\n",
        provenance(policy, tier),
        device_name(policy.name(), tier),
        wallet.threshold(),
        wallet.keys().len()
    );
    let keys: Vec<&OriginXpub> = wallet
        .keys()
        .iter()
        .map(|id| policy.keys()[id].xpub())
        .collect();
    let shared = keys.iter().all(|k| k.path() == keys[0].path());
    if shared {
        out += &format!("Derivation: {}\n", path_text(keys[0].path()));
    }
    out += "Format: P2WSH\n\n";
    for key in keys {
        if !shared {
            out += &format!("Derivation: {}\n", path_text(key.path()));
        }
        out += &format!("{}: {}\n", fingerprint_text(key.fingerprint()), key.xpub());
    }
    Ok(out)
}

/// `vault-tier`, cut to what the device accepts and to printable ASCII.
fn device_name(vault: &str, tier: Tier) -> String {
    let ascii: String = vault
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .collect();
    let suffix = format!("-{tier}");
    let room = MAX_NAME - suffix.len();
    format!("{}{suffix}", ascii.chars().take(room).collect::<String>())
}

fn path_text(path: &DerivationPath) -> String {
    let steps: Vec<String> = path.into_iter().map(|c| c.to_string()).collect();
    format!("m/{}", steps.join("/"))
}

fn fingerprint_text(f: Fingerprint) -> String {
    f.to_string().to_uppercase()
}

/// Why a setup file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColdcardError {
    /// A line that is neither a setting, a key nor a comment.
    #[error(
        "line {line}: `{text}` is not `Name:`, `Policy:`, `Derivation:`, `Format:` or `XFP: xpub`"
    )]
    Line {
        /// 1-based line number.
        line: usize,
        /// The line, shortened.
        text: String,
    },
    /// A setting's value does not parse.
    #[error("line {line}: {problem}")]
    Value {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// No `Policy: M of N` line.
    #[error("the file has no `Policy: M of N` line")]
    NoPolicy,
    /// A key before any `Derivation:` line.
    #[error("the key on line {0} has no derivation: add a `Derivation:` line before it")]
    NoDerivation(usize),
    /// N differs from the number of keys.
    #[error("the policy says {stated} keys, the file lists {listed}")]
    KeyCount {
        /// N of `Policy: M of N`.
        stated: usize,
        /// Key lines found.
        listed: usize,
    },
    /// A format other than P2WSH.
    #[error("format {0} is not P2WSH; custodia vaults are wsh or tr")]
    Format(String),
}

impl Classify for ColdcardError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::BadInput
    }
}

/// A multisig setup file, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColdcardSetup {
    /// `Name:`.
    pub name: String,
    /// M of `Policy: M of N`.
    pub threshold: usize,
    /// The keys with their origins, in file order.
    pub keys: Vec<OriginXpub>,
}

impl ColdcardSetup {
    /// Reads a setup file as Coldcard does: settings in any case, `#`
    /// comments, SLIP-132 keys, a `Derivation:` for the keys after it.
    pub fn parse(text: &str) -> Result<ColdcardSetup, ColdcardError> {
        let (mut name, mut policy, mut derivation) = (String::new(), None, None);
        let mut format = "P2SH".to_owned();
        let mut keys = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let text = raw.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            let value_error = |problem: String| ColdcardError::Value { line, problem };
            let Some((label, value)) = text.split_once(':') else {
                return Err(ColdcardError::Line {
                    line,
                    text: text.chars().take(40).collect(),
                });
            };
            let value = value.trim();
            match label.trim().to_ascii_lowercase().as_str() {
                "name" => name = value.to_owned(),
                "policy" => {
                    policy = Some(
                        parse_quorum(value)
                            .ok_or_else(|| value_error(format!("`{value}` is not `M of N`")))?,
                    )
                }
                "derivation" => {
                    derivation = Some(
                        DerivationPath::from_str(value)
                            .map_err(|e| value_error(format!("derivation `{value}`: {e}")))?,
                    )
                }
                "format" => format = value.to_ascii_uppercase(),
                xfp if xfp.len() == 8 && xfp.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    let fingerprint = Fingerprint::from_str(xfp).expect("eight hex digits");
                    let xpub = parse_xpub(value).map_err(|e| value_error(format!("key: {e}")))?;
                    let path = derivation
                        .clone()
                        .ok_or(ColdcardError::NoDerivation(line))?;
                    keys.push(OriginXpub::new(fingerprint, path, xpub));
                }
                _ => {
                    return Err(ColdcardError::Line {
                        line,
                        text: text.chars().take(40).collect(),
                    })
                }
            }
        }
        let (threshold, total) = policy.ok_or(ColdcardError::NoPolicy)?;
        if total != keys.len() {
            return Err(ColdcardError::KeyCount {
                stated: total,
                listed: keys.len(),
            });
        }
        if format != "P2WSH" {
            return Err(ColdcardError::Format(format));
        }
        Ok(ColdcardSetup {
            name,
            threshold,
            keys,
        })
    }

    /// The wallet's receive-and-change descriptor, as custodia derives it.
    pub fn descriptor(&self) -> Descriptor<DescriptorPublicKey> {
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|k| k.multipath_key(MAIN_CHAINS).to_string())
            .collect();
        Descriptor::from_str(&format!(
            "wsh(sortedmulti({},{}))",
            self.threshold,
            keys.join(",")
        ))
        .expect("sortedmulti over origin xpubs parses")
    }
}

/// `M of N` (Coldcard also writes `M/N`).
fn parse_quorum(value: &str) -> Option<(usize, usize)> {
    let (m, n) = value.split_once(" of ").or_else(|| value.split_once('/'))?;
    let (m, n) = (m.trim().parse().ok()?, n.trim().parse().ok()?);
    (1..=n).contains(&m).then_some((m, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_the_device() {
        assert_eq!(
            device_name("exchange-main", Tier::Cold),
            "exchange-main-cold"
        );
        assert_eq!(
            device_name("a very long vault name indeed", Tier::Hot).len(),
            MAX_NAME
        );
        assert_eq!(device_name("取引所", Tier::Hot), "-hot");
    }

    #[test]
    fn quorums() {
        assert_eq!(parse_quorum("2 of 3"), Some((2, 3)));
        assert_eq!(parse_quorum("2/3"), Some((2, 3)));
        assert_eq!(parse_quorum("4 of 3"), None);
        assert_eq!(parse_quorum("0 of 3"), None);
    }
}

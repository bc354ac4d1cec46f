//! BIP-129 (Bitcoin Secure Multisig Setup) descriptor records, round 2,
//! without encryption (`TOKEN` 0x00): four lines, the version, a descriptor
//! template whose keys end in `/**`, the path restrictions `/0/*,/1/*` and the
//! wallet's first receive address, which every signer derives and shows so
//! that a tampered record is caught by comparing one address.

use std::str::FromStr;

use bitcoin::address::NetworkUnchecked;
use bitcoin::{Address, Network};
use miniscript::descriptor::{Descriptor, DescriptorPublicKey};

use super::ExportError;
use crate::error::{Classify, ExitCode};
use crate::policy::{Chain, Tier, VaultPolicy};

/// The only version of the record there is.
pub const VERSION: &str = "BSMS 1.0";
/// What line 3 says when a record holds a concrete descriptor.
pub const NO_RESTRICTIONS: &str = "No path restrictions";

/// The descriptor record of one tier.
pub fn write(policy: &VaultPolicy, tier: Tier) -> Result<String, ExportError> {
    if policy.wallet(tier).recovery().is_some() {
        return Err(ExportError::BsmsNeedsOnePathSet { tier });
    }
    let descriptor = policy.descriptor(tier);
    let multipath = descriptor.multipath().to_string();
    let bare = multipath.split('#').next().unwrap_or(&multipath);
    let template = bare.replace("/<0;1>/*", "/**");
    let first = descriptor.address(Chain::Receive, 0, policy.network());
    Ok(format!("{VERSION}\n{template}\n/0/*,/1/*\n{first}\n"))
}

/// Why a descriptor record cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BsmsError {
    /// The first line is not `BSMS 1.0`.
    #[error("not a BSMS 1.0 descriptor record (first line `{0}`)")]
    Version(String),
    /// Not four lines.
    #[error("a BSMS descriptor record has four lines (version, descriptor, path restrictions, first address); this one has {0}")]
    Lines(usize),
    /// A path restriction that is not `/n/.../*` with unhardened steps.
    #[error("path restriction `{0}` must start with / and use only unhardened steps")]
    Restriction(String),
    /// A template without restrictions, or restrictions without a template.
    #[error("a descriptor template (keys ending in /**) needs path restrictions, and path restrictions need a template")]
    Template,
    /// The descriptor does not parse (or its checksum is wrong).
    #[error("the descriptor does not parse: {0}")]
    Descriptor(String),
    /// The first address does not parse.
    #[error("the first address does not parse: {0}")]
    Address(String),
    /// The first address is of another network.
    #[error("the first address is not a {0} address")]
    Network(Network),
    /// The stated first address is not what the descriptor derives.
    #[error("the record states first address {stated}, but its descriptor derives {derived}: do not use this record")]
    FirstAddress {
        /// Line 4.
        stated: String,
        /// Derived from line 2 and the first restriction.
        derived: String,
    },
}

impl Classify for BsmsError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::BadInput
    }
}

/// A descriptor record read and checked: its first address is what its
/// descriptor derives on `network`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptorRecord {
    descriptors: Vec<Descriptor<DescriptorPublicKey>>,
    first_address: Address,
}

impl DescriptorRecord {
    /// Reads a record (LF or CRLF line ends) and checks its first address.
    pub fn parse(text: &str, network: Network) -> Result<DescriptorRecord, BsmsError> {
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.first() != Some(&VERSION) {
            return Err(BsmsError::Version(
                lines.first().unwrap_or(&"").chars().take(40).collect(),
            ));
        }
        let [_, template, restrictions, address] = lines[..] else {
            return Err(BsmsError::Lines(lines.len()));
        };
        let is_template = template.contains("/**");
        let texts: Vec<String> = match (restrictions == NO_RESTRICTIONS, is_template) {
            (true, false) => vec![template.to_owned()],
            (false, true) => restrictions
                .split(',')
                .map(|r| check_restriction(r.trim()).map(|r| template.replace("/**", r)))
                .collect::<Result<_, _>>()?,
            _ => return Err(BsmsError::Template),
        };
        let descriptors = texts
            .iter()
            .map(|t| {
                Descriptor::<DescriptorPublicKey>::from_str(t)
                    .map_err(|e| BsmsError::Descriptor(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let stated = Address::<NetworkUnchecked>::from_str(address)
            .map_err(|e| BsmsError::Address(e.to_string()))?
            .require_network(network)
            .map_err(|_| BsmsError::Network(network))?;
        let derived = descriptors[0]
            .at_derivation_index(0)
            .map_err(|e| BsmsError::Descriptor(e.to_string()))?
            .address(network)
            .map_err(|e| BsmsError::Descriptor(e.to_string()))?;
        if derived != stated {
            return Err(BsmsError::FirstAddress {
                stated: stated.to_string(),
                derived: derived.to_string(),
            });
        }
        Ok(DescriptorRecord {
            descriptors,
            first_address: stated,
        })
    }

    /// The concrete descriptors, one per path restriction (receive first).
    pub fn descriptors(&self) -> &[Descriptor<DescriptorPublicKey>] {
        &self.descriptors
    }

    /// The first receive address, checked against the descriptor.
    pub fn first_address(&self) -> &Address {
        &self.first_address
    }
}

fn check_restriction(r: &str) -> Result<&str, BsmsError> {
    let bad = || BsmsError::Restriction(r.to_owned());
    let steps = r
        .strip_prefix('/')
        .ok_or_else(bad)?
        .split('/')
        .collect::<Vec<_>>();
    let last = steps.len() - 1;
    for (i, step) in steps.iter().enumerate() {
        let ok = (*step == "*" && i == last)
            || (!step.is_empty() && step.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(bad());
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restrictions_are_unhardened_paths() {
        assert!(check_restriction("/0/*").is_ok());
        assert!(check_restriction("/1/2/*").is_ok());
        assert!(check_restriction("/7").is_ok());
        for bad in ["0/*", "/0'/*", "/0h/*", "/*/0", "/", "//*"] {
            assert_eq!(
                check_restriction(bad),
                Err(BsmsError::Restriction(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_record_needs_its_four_lines() {
        assert!(matches!(
            DescriptorRecord::parse("BSMS 1.1\nx\ny\nz\n", Network::Bitcoin),
            Err(BsmsError::Version(_))
        ));
        assert_eq!(
            DescriptorRecord::parse("BSMS 1.0\nwsh(x)\n", Network::Bitcoin),
            Err(BsmsError::Lines(2))
        );
    }
}

//! The vault's wallets in the formats other wallets and signing devices
//! import: a BIP-129 BSMS descriptor record, a Coldcard multisig setup file, a
//! Sparrow output-descriptor file and Bitcoin Core `importdescriptors` JSON.
//!
//! Every export is of one tier, and each format that has a comment syntax
//! names the vault, the tier and the policy id in one, so that a device's
//! registration can be traced back to the policy it came from. BSMS records
//! and Core's JSON have no comments; the command that writes them prints the
//! policy id instead.
//!
//! Each writer has a reader beside it, so that what is written is read back
//! and compared with the policy before anyone relies on it.

pub mod bsms;
pub mod coldcard;
pub mod core_descriptors;
pub mod sparrow;

use super::{ScriptKind, Tier, VaultPolicy};
use crate::error::{Classify, ExitCode};

/// A format `policy export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// BIP-129 descriptor record (round 2), unencrypted.
    Bsms,
    /// Coldcard (and Passport, Keystone) multisig setup file.
    Coldcard,
    /// Sparrow's output-descriptor file (also read by Specter).
    Sparrow,
    /// Bitcoin Core `importdescriptors` JSON for a watch-only wallet.
    CoreDescriptors,
}

impl ExportFormat {
    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Bsms => "bsms",
            ExportFormat::Coldcard => "coldcard",
            ExportFormat::Sparrow => "sparrow",
            ExportFormat::CoreDescriptors => "core-descriptors",
        }
    }
}

/// A wallet a format cannot describe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// Coldcard's setup file knows only `sortedmulti` under P2WSH (or P2SH).
    #[error("the {tier} wallet is {what}; a Coldcard multisig setup file describes only a plain wsh sortedmulti wallet. Export it with --format bsms (taproot without a recovery path) or --format sparrow / core-descriptors")]
    ColdcardNeedsSortedMulti {
        /// The tier asked for.
        tier: Tier,
        /// What the wallet is instead.
        what: &'static str,
    },
    /// BSMS templates assume every key derives on the same paths.
    #[error("the {tier} wallet has a recovery path whose keys derive on /2/* and /3/*; a BSMS descriptor template gives all keys the same paths. Export it with --format sparrow or core-descriptors")]
    BsmsNeedsOnePathSet {
        /// The tier asked for.
        tier: Tier,
    },
}

impl Classify for ExportError {
    fn exit_code(&self) -> ExitCode {
        ExitCode::BadInput
    }
}

/// Writes one tier of `policy` in `format`.
pub fn export(
    policy: &VaultPolicy,
    tier: Tier,
    format: ExportFormat,
) -> Result<String, ExportError> {
    match format {
        ExportFormat::Bsms => bsms::write(policy, tier),
        ExportFormat::Coldcard => coldcard::write(policy, tier),
        ExportFormat::Sparrow => Ok(sparrow::write(policy, tier)),
        ExportFormat::CoreDescriptors => Ok(core_descriptors::write(policy, tier)),
    }
}

/// One comment line naming what an export is of.
fn provenance(policy: &VaultPolicy, tier: Tier) -> String {
    format!(
        "custodia vault {}, {tier} wallet, policy id {}",
        policy.name(),
        policy.id()
    )
}

/// What a wallet is, in words, when a format cannot hold it.
fn shape(policy: &VaultPolicy, tier: Tier) -> Option<&'static str> {
    let wallet = policy.wallet(tier);
    match (wallet.script(), wallet.recovery().is_some()) {
        (ScriptKind::Wsh, false) => None,
        (ScriptKind::Wsh, true) => Some("wsh with a timelocked recovery path"),
        (ScriptKind::Tr, false) => Some("taproot multi_a"),
        (ScriptKind::Tr, true) => Some("taproot with a timelocked recovery path"),
    }
}

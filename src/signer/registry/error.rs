//! Why a registration or a registered policy failed, and the exit code of
//! each case.

use std::path::PathBuf;

use bitcoin::bip32::Xpub;

use crate::error::{Classify, ExitCode};
use crate::policy::{AddressKeysError, KeyId, PolicyError, PolicyId, Tier};
use crate::signer::keystore::KeyStoreError;

/// Why a registration or a registered policy failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The data dir failed.
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
    /// The address key table of a registered policy is not of that policy.
    #[error("the address key table {path} does not belong to its policy: {reason}; run `custodia-signer register` with the policy again to make it anew")]
    AddressKeys {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: AddressKeysError,
    },
    /// The policy file is not a valid policy.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A registered policy file no longer matches its name or does not parse.
    #[error("registered policy {path} is damaged: {reason}; remove it and register the policy again from its original file")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The vault is registered with another policy and `--replace` was not given.
    #[error("vault `{vault}` is registered with policy {old}; this file is a different policy {new}. Check the changes shown above with the people who wrote the policy, then run again with --replace")]
    NeedsReplace {
        /// Vault name.
        vault: String,
        /// Registered policy id.
        old: PolicyId,
        /// New policy id.
        new: PolicyId,
    },
    /// The registered policy governs its changes and no approved update
    /// was given.
    #[error("the registered policy {old} of vault `{vault}` governs its changes: replacing it with {new} needs the policy update its approvers approved (`custodia-signer approve-update`), given with --update FILE; nothing was registered")]
    UpdateNeeded {
        /// Vault name.
        vault: String,
        /// Registered policy id.
        old: PolicyId,
        /// New policy id.
        new: PolicyId,
    },
    /// The update given does not approve this change.
    #[error("{0}; nothing was registered")]
    Update(#[from] crate::policy::update::UpdateError),
    /// The seed's key is still in a registered policy.
    #[error("key `{key}` of this seed is still in registered policy {policy}; migrate its funds to the successor and `retire-policy` it first; the seed was not touched")]
    KeyStillUsed {
        /// The key.
        key: crate::policy::KeyId,
        /// The policy.
        policy: PolicyId,
    },
    /// The policy is not registered here.
    #[error(
        "policy {0} is not registered on this signer (`custodia-signer policies` lists what is)"
    )]
    NotRegistered(PolicyId),
    /// Retiring a policy without a successor.
    #[error("policy {0} has no successor registered here; register its successor with `register NEW --successor` and migrate its funds first")]
    NoSuccessor(PolicyId),
    /// No policy of this vault is registered here.
    #[error("no policy of vault `{0}` is registered on this signer; register the policy in force first, then approve its successor")]
    VaultNotRegistered(String),
    /// The approver is not an approver of the policy in force.
    #[error("`{approver}` is not an approver of the registered policy {policy}; only its approvers approve its successor")]
    NotAnApprover {
        /// The approver id given.
        approver: crate::policy::ApproverId,
        /// The policy in force.
        policy: PolicyId,
    },
    /// The operator did not confirm.
    #[error("not confirmed; nothing was registered")]
    NotConfirmed,
    /// A policy file the signer's log has no registration of.
    #[error("{path} holds policy {id}, but this signer's log has no `register` entry for it: a file placed in the data directory is not a registration, and the signer does not use it. If the policy should be registered, check its id with the vault's other key holders and register it from its original file with `custodia-signer register POLICY.toml`; otherwise remove the file")]
    Unlogged {
        /// The file.
        path: PathBuf,
        /// The policy id it names.
        id: PolicyId,
    },
    /// The policy is for another network than this signer's seed.
    #[error("the policy is for {policy}, but this signer's seed is for {seed}; a key serves one network — register a policy written for {seed}, or use a signer set up for {policy}")]
    OtherNetwork {
        /// The seed's network (key.json).
        seed: bitcoin::Network,
        /// The policy's network.
        policy: bitcoin::Network,
    },
    /// A key of the policy is registered already for another vault.
    #[error("key `{key}` is already registered here for vault `{vault}` (policy {policy}); a key serves one vault and one tier, so this policy is refused. If it is a drill or a new vault, it needs keys of its own")]
    KeyOfAnotherVault {
        /// The key id in the new policy.
        key: KeyId,
        /// The vault it serves.
        vault: String,
        /// That vault's registered policy.
        policy: PolicyId,
    },
    /// A replacement moves a key to another tier.
    #[error("key `{key}` serves {} in the registered policy and {} in this one; a key serves one tier — move funds to new keys instead (see docs/operator.md)", tiers_text(.was), tiers_text(.is))]
    KeyChangedTier {
        /// The key id.
        key: KeyId,
        /// Its tiers in the registered policy.
        was: Vec<Tier>,
        /// Its tiers in the new one.
        is: Vec<Tier>,
    },
    /// The policy states an xpub for this seed that the seed does not derive.
    #[error("the policy says key `{key}` is {stated}, but this seed derives {} at that origin: the policy is wrong or names another seed with the same fingerprint; check it with `custodia-signer xpub` and the policy's author", .derived.as_ref().map_or_else(|| "nothing (the path cannot be derived)".to_owned(), |x| x.to_string()))]
    NotThisSeedsKey {
        /// The key id.
        key: KeyId,
        /// The key as the policy states it (boxed: xpubs are large, and
        /// every result of the registry carries this error's size).
        stated: Box<Xpub>,
        /// What the seed derives there (none if the path cannot be derived).
        derived: Option<Box<Xpub>>,
    },
    /// The policy names a key of this seed, and no unlocked seed was given to check it.
    #[error("the policy names a key of this signer's seed; registering it needs the passphrase, so that the key can be derived and compared")]
    SeedNeeded,
    /// A policy file whose registration a later one replaced.
    #[error("{path} holds policy {id}, which policy {by} replaced (log entry {seq}); the signer no longer uses a retired policy. Have the coordinator build the PSBT for the current policy, or, if {id} should be current again, register it with `custodia-signer register POLICY.toml --replace`")]
    Retired {
        /// The file.
        path: PathBuf,
        /// The retired policy.
        id: PolicyId,
        /// The policy that replaced it.
        by: PolicyId,
        /// The log entry that replaced it.
        seq: u64,
    },
}

fn tiers_text(tiers: &[Tier]) -> String {
    match tiers {
        [] => "no wallet".to_owned(),
        t => t
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" and "),
    }
}

impl Classify for RegistryError {
    fn exit_code(&self) -> ExitCode {
        match self {
            RegistryError::KeyStore(e) => e.exit_code(),
            RegistryError::Policy(e) => e.exit_code(),
            RegistryError::Corrupt { .. }
            | RegistryError::AddressKeys { .. }
            | RegistryError::NeedsReplace { .. } => ExitCode::BadInput,
            RegistryError::Update(e) => e.exit_code(),
            RegistryError::VaultNotRegistered(_)
            | RegistryError::NotAnApprover { .. }
            | RegistryError::NotRegistered(_)
            | RegistryError::NoSuccessor(_) => ExitCode::BadInput,
            RegistryError::NotConfirmed
            | RegistryError::KeyStillUsed { .. }
            | RegistryError::UpdateNeeded { .. }
            | RegistryError::Unlogged { .. }
            | RegistryError::Retired { .. }
            | RegistryError::OtherNetwork { .. }
            | RegistryError::KeyOfAnotherVault { .. }
            | RegistryError::KeyChangedTier { .. }
            | RegistryError::NotThisSeedsKey { .. } => ExitCode::Refused,
            RegistryError::SeedNeeded => ExitCode::BadInput,
        }
    }
}

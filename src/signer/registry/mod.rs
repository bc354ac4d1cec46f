//! Policy registration: the signer signs only for policies its operator has
//! looked at and registered. Registered policies live in
//! `policies/<policy id>.toml` as canonical TOML; a new policy for a vault
//! already registered replaces the old one only when asked (`--replace`),
//! and the old file moves to `policies/retired/`.
//!
//! The signer's log is the record of what was registered: a policy file
//! counts only if the log holds its `register` entry and no later one
//! replaced it (see `logged.rs`).

mod key_checks;
mod logged;

use std::fmt::Write as _;
use std::path::PathBuf;

use bitcoin::bip32::Fingerprint;
use serde::Serialize;
use serde_json::json;

pub use crate::policy::diff::{diff_lines, render_diff, DiffLine};

use crate::error::{Classify, ExitCode};
use crate::policy::{KeyId, PolicyError, PolicyId, PolicyReport, Tier, VaultPolicy};
use crate::signer::keystore::{
    check_private_file, read_private, KeyStoreError, SignerHome, UnlockedSeed,
};
use crate::transport::{write_new_atomically, FileError};
use logged::{Logged, LoggedRegistrations, REGISTER_EVENT};

/// Why a registration or a registered policy failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The data dir failed.
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
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
    #[error("the policy says key `{key}` is {stated}, but this seed derives {derived} at that origin: the policy is wrong or names another seed with the same fingerprint; check it with `custodia-signer xpub` and the policy's author")]
    NotThisSeedsKey {
        /// The key id.
        key: KeyId,
        /// The key as the policy states it.
        stated: String,
        /// What the seed derives there.
        derived: String,
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
        by: String,
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
            RegistryError::Corrupt { .. } | RegistryError::NeedsReplace { .. } => {
                ExitCode::BadInput
            }
            RegistryError::NotConfirmed
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

/// A key of the policy this signer holds (its master fingerprint matches the
/// key's origin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldKey {
    /// Key id in the policy.
    pub key: String,
    /// Where the key is used: `cold`, `hot`, `cold recovery`, `hot recovery`.
    pub roles: Vec<String>,
    /// The key's origin xpub in the policy.
    pub xpub: String,
}

/// What this signer holds of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holdings {
    /// Master fingerprint of this signer's seed, if it has one.
    pub fingerprint: Option<String>,
    /// Wallet keys of the policy with this signer's fingerprint.
    pub keys: Vec<HeldKey>,
    /// Approvers of the policy whose approval key (same id and public key) is stored here.
    pub approvers: Vec<String>,
    /// Approver ids stored here whose public key differs from the policy's.
    pub approver_mismatches: Vec<String>,
}

impl Holdings {
    /// True when the signer can neither sign nor approve for the policy.
    pub fn review_only(&self) -> bool {
        self.keys.is_empty() && self.approvers.is_empty()
    }

    /// Lines for people.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let fp = self.fingerprint.as_deref().unwrap_or("no seed");
        if self.keys.is_empty() {
            let _ = writeln!(s, "this signer ({fp}) holds no wallet key of this policy");
        }
        for k in &self.keys {
            let _ = writeln!(
                s,
                "this signer ({fp}) holds key {} ({})",
                k.key,
                k.roles.join(", ")
            );
        }
        for a in &self.approvers {
            let _ = writeln!(s, "this signer holds the approval key of approver {a}");
        }
        for a in &self.approver_mismatches {
            let _ = writeln!(s, "WARNING: approval key `{a}` stored here is not the policy's approver {a} (public keys differ); it cannot approve for this policy");
        }
        if self.review_only() {
            let _ = writeln!(s, "WARNING: this signer holds no key and no approver of this policy; it can only review, never sign or approve");
        }
        s
    }
}

/// How a policy relates to what is registered.
#[derive(Debug, Clone)]
pub enum RegistrationStatus {
    /// No policy of this vault is registered.
    New,
    /// Exactly this policy is registered already.
    AlreadyRegistered,
    /// Another policy of the same vault is registered; this one would replace it.
    Replaces {
        /// The registered policy.
        old: Box<VaultPolicy>,
        /// Canonical TOML, old to new.
        diff: Vec<DiffLine>,
    },
}

/// A policy about to be registered, with everything the operator should see.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The policy.
    pub policy: VaultPolicy,
    /// What this signer holds of it.
    pub holdings: Holdings,
    /// New, already registered, or replacing.
    pub status: RegistrationStatus,
}

impl Registration {
    /// Whether the policy names a key of this signer's seed, which
    /// registering derives again from the seed (the passphrase is needed).
    pub fn needs_seed(&self) -> bool {
        !self.holdings.keys.is_empty()
    }

    /// The summary shown before asking for confirmation.
    pub fn to_text(&self) -> String {
        let mut s = PolicyReport::new(&self.policy).to_text();
        s.push('\n');
        s.push_str(&self.holdings.to_text());
        match &self.status {
            RegistrationStatus::New => {}
            RegistrationStatus::AlreadyRegistered => {
                let _ = writeln!(s, "\nthis policy is registered already; nothing to do");
            }
            RegistrationStatus::Replaces { old, diff } => {
                let _ = writeln!(
                    s,
                    "\nREPLACES policy {} of vault `{}`. Changes (- registered, + new):\n{}",
                    old.id(),
                    old.name(),
                    render_diff(diff, 2)
                );
            }
        }
        s
    }
}

/// One registered policy, for `policies`.
#[derive(Debug, Clone, Serialize)]
pub struct RegisteredPolicy {
    /// Policy id.
    pub policy_id: String,
    /// Vault name.
    pub vault: String,
    /// Network.
    pub network: String,
    /// e.g. `3-of-5 wsh`.
    pub cold: String,
    /// e.g. `2-of-3 wsh`.
    pub hot: String,
    /// What this signer holds of it.
    pub holdings: Holdings,
}

impl RegisteredPolicy {
    /// One line for `policies`.
    pub fn to_line(&self) -> String {
        let held: Vec<&str> = self
            .holdings
            .keys
            .iter()
            .map(|k| k.key.as_str())
            .chain(self.holdings.approvers.iter().map(|a| a.as_str()))
            .collect();
        let held = match held.is_empty() {
            true => "nothing (review only)".to_owned(),
            false => held.join(", "),
        };
        format!(
            "{} {} ({}) cold {} hot {}; holds {held}",
            self.policy_id, self.vault, self.network, self.cold, self.hot
        )
    }
}

impl SignerHome {
    /// What this signer holds of `policy`: wallet keys by master fingerprint
    /// (read from `key.json`, no passphrase needed) and approval keys by id
    /// and public key.
    pub fn holdings(&self, policy: &VaultPolicy) -> Result<Holdings, KeyStoreError> {
        let fingerprint: Option<Fingerprint> =
            self.key_info()?.map(|info| info.master_fingerprint());
        let keys = policy
            .keys()
            .values()
            .filter(|k| Some(k.xpub().fingerprint()) == fingerprint)
            .map(|k| {
                let mut roles = Vec::new();
                for tier in Tier::ALL {
                    let w = policy.wallet(tier);
                    if w.keys().contains(k.id()) {
                        roles.push(tier.to_string());
                    }
                    if w.recovery().is_some_and(|r| r.keys().contains(k.id())) {
                        roles.push(format!("{tier} recovery"));
                    }
                }
                HeldKey {
                    key: k.id().to_string(),
                    roles,
                    xpub: k.xpub().to_string(),
                }
            })
            .collect();
        let mut approvers = Vec::new();
        let mut approver_mismatches = Vec::new();
        for info in self.approvers()? {
            match policy.approver(&info.id) {
                Some(a) if *a.pubkey() == info.pubkey => approvers.push(info.id.to_string()),
                Some(_) => approver_mismatches.push(info.id.to_string()),
                None => {}
            }
        }
        Ok(Holdings {
            fingerprint: fingerprint.map(|f| f.to_string()),
            keys,
            approvers,
            approver_mismatches,
        })
    }

    fn policy_path(&self, id: &PolicyId) -> PathBuf {
        self.policies_dir().join(format!("{id}.toml"))
    }

    /// The registrations the signer's log records, from the verified log.
    fn logged_registrations(&self) -> Result<LoggedRegistrations, RegistryError> {
        let entries = self.log().verify().map_err(KeyStoreError::from)?.entries;
        Ok(LoggedRegistrations::from_entries(&entries))
    }

    /// The policy in `policies/<id>.toml`, if the file exists, re-validated:
    /// it must still hash to its name. Says nothing about registration.
    fn policy_file(&self, id: &PolicyId) -> Result<Option<VaultPolicy>, RegistryError> {
        let path = self.policy_path(id);
        let Some(bytes) = read_private(&path)? else {
            return Ok(None);
        };
        let corrupt = |reason: String| RegistryError::Corrupt {
            path: path.clone(),
            reason,
        };
        let text = String::from_utf8(bytes).map_err(|_| corrupt("not UTF-8 text".into()))?;
        let policy = VaultPolicy::from_toml(&text).map_err(|e| corrupt(e.to_string()))?;
        if policy.id() != *id {
            return Err(corrupt(format!(
                "its content has policy id {}",
                policy.id()
            )));
        }
        Ok(Some(policy))
    }

    /// The policy file of `id`, if it counts as registered by `logged`.
    fn registered_in(
        &self,
        logged: &LoggedRegistrations,
        id: &PolicyId,
    ) -> Result<Option<VaultPolicy>, RegistryError> {
        let Some(policy) = self.policy_file(id)? else {
            return Ok(None);
        };
        let path = self.policy_path(id);
        match logged.of(id) {
            Logged::Current(_) => Ok(Some(policy)),
            Logged::Never => Err(RegistryError::Unlogged { path, id: *id }),
            Logged::Retired { by, seq } => Err(RegistryError::Retired {
                path,
                id: *id,
                by,
                seq,
            }),
        }
    }

    /// The registered policy with this id, if any. The file is re-validated
    /// and must still hash to its name, and the signer's log must hold its
    /// `register` entry, not replaced since: a file that is there without
    /// one is refused ([`RegistryError::Unlogged`], [`RegistryError::Retired`]).
    pub fn registered_policy(&self, id: &PolicyId) -> Result<Option<VaultPolicy>, RegistryError> {
        self.registered_in(&self.logged_registrations()?, id)
    }

    /// Every policy file: the registered policies, ordered by vault name, and
    /// the files that do not count as registered (each as the error that
    /// says why and what to do).
    fn policy_files(&self) -> Result<(Vec<VaultPolicy>, Vec<RegistryError>), RegistryError> {
        let dir = self.policies_dir();
        check_private_file(&dir)?;
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Vec::new(), Vec::new()))
            }
            Err(e) => return Err(KeyStoreError::io(dir, e).into()),
        };
        let logged = self.logged_registrations()?;
        let mut out = Vec::new();
        let mut unregistered = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| KeyStoreError::io(&dir, e))?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                continue;
            }
            let id = path
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<PolicyId>().ok())
                .ok_or_else(|| RegistryError::Corrupt {
                    path: path.clone(),
                    reason: "its name is not a policy id".into(),
                })?;
            match self.registered_in(&logged, &id) {
                Ok(Some(policy)) => out.push(policy),
                Ok(None) => {}
                Err(e @ (RegistryError::Unlogged { .. } | RegistryError::Retired { .. })) => {
                    unregistered.push(e)
                }
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.name().cmp(b.name()).then(a.id().cmp(&b.id())));
        Ok((out, unregistered))
    }

    /// Every registered policy, ordered by vault name. Policy files without
    /// a current `register` entry in the log are left out
    /// ([`unregistered_policy_files`](Self::unregistered_policy_files) names them).
    pub fn registered_policies(&self) -> Result<Vec<VaultPolicy>, RegistryError> {
        Ok(self.policy_files()?.0)
    }

    /// Policy files in `policies/` that do not count as registered, each as
    /// the error that says why and what to do; for warnings.
    pub fn unregistered_policy_files(&self) -> Result<Vec<RegistryError>, RegistryError> {
        Ok(self.policy_files()?.1)
    }

    /// The registered policies with what this signer holds of each.
    pub fn registered_summary(&self) -> Result<Vec<RegisteredPolicy>, RegistryError> {
        self.registered_policies()?
            .into_iter()
            .map(|p| {
                let quorum = |t: Tier| {
                    let w = p.wallet(t);
                    format!("{}-of-{} {}", w.threshold(), w.keys().len(), w.script())
                };
                Ok(RegisteredPolicy {
                    policy_id: p.id().to_string(),
                    vault: p.name().to_owned(),
                    network: p.network().to_string(),
                    cold: quorum(Tier::Cold),
                    hot: quorum(Tier::Hot),
                    holdings: self.holdings(&p)?,
                })
            })
            .collect()
    }

    /// Everything the operator should see before registering `policy`.
    pub fn prepare_registration(&self, policy: VaultPolicy) -> Result<Registration, RegistryError> {
        let holdings = self.holdings(&policy)?;
        let same_vault = self
            .registered_policies()?
            .into_iter()
            .find(|p| p.name() == policy.name() || p.id() == policy.id());
        let status = match same_vault {
            None => RegistrationStatus::New,
            Some(old) if old.id() == policy.id() => RegistrationStatus::AlreadyRegistered,
            Some(old) => RegistrationStatus::Replaces {
                diff: diff_lines(&old.to_toml(), &policy.to_toml()),
                old: Box::new(old),
            },
        };
        self.check_keys_serve_one_vault(&policy, &status)?;
        Ok(Registration {
            policy,
            holdings,
            status,
        })
    }

    /// Registers a prepared policy: writes its canonical TOML, retires the
    /// policy it replaces (only with `replace`), and logs the event. The
    /// caller has shown [`Registration::to_text`] and had it confirmed. When
    /// the policy names a key of this signer's seed, `seed` must be the
    /// unlocked seed: the key is derived again and compared first.
    pub fn register(
        &self,
        reg: &Registration,
        replace: bool,
        seed: Option<&UnlockedSeed>,
    ) -> Result<(), RegistryError> {
        if reg.needs_seed() {
            self.check_own_keys(&reg.policy, seed.ok_or(RegistryError::SeedNeeded)?)?;
        }
        let old = match &reg.status {
            RegistrationStatus::AlreadyRegistered => return Ok(()),
            RegistrationStatus::New => None,
            RegistrationStatus::Replaces { old, .. } if replace => Some(old),
            RegistrationStatus::Replaces { old, .. } => {
                return Err(RegistryError::NeedsReplace {
                    vault: reg.policy.name().to_owned(),
                    old: old.id(),
                    new: reg.policy.id(),
                })
            }
        };
        self.subdir(self.policies_dir())?;
        let path = self.policy_path(&reg.policy.id());
        // A file of this id without a current log entry (left by a
        // registration interrupted before its log entry, or put there by
        // hand) holds this very policy if it hashes to the id: the operator
        // has just confirmed it, so the log entry below makes it registered.
        if self.policy_file(&reg.policy.id())?.is_none() {
            write_new_atomically(&path, reg.policy.to_toml().as_bytes()).map_err(|e| match e {
                FileError::Exists(_) => RegistryError::Corrupt {
                    path: path.clone(),
                    reason: "it appeared while registering; register again".into(),
                },
                other => KeyStoreError::from(other).into(),
            })?;
        }
        if let Some(old) = old {
            let retired = self.subdir(self.policies_dir().join("retired"))?;
            let from = self.policy_path(&old.id());
            let to = retired.join(format!("{}.toml", old.id()));
            std::fs::rename(&from, &to).map_err(|e| KeyStoreError::io(&from, e))?;
        }
        self.log()
            .append(json!({
                "kind": REGISTER_EVENT,
                "policy_id": reg.policy.id().to_string(),
                "vault": reg.policy.name(),
                "network": reg.policy.network().to_string(),
                "replaced": old.map(|o| o.id().to_string()),
                "keys_held": reg.holdings.keys.iter().map(|k| k.key.clone()).collect::<Vec<_>>(),
                "approvers_held": reg.holdings.approvers,
            }))
            .map_err(KeyStoreError::from)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;

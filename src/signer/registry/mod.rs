//! Policy registration: the signer signs only for policies its operator has
//! looked at and registered. Registered policies live in
//! `policies/<policy id>.toml` as canonical TOML; a new policy for a vault
//! already registered replaces the old one only when asked (`--replace`),
//! and the old file moves to `policies/retired/`.
//!
//! The signer's log is the record of what was registered: a policy file
//! counts only if the log holds its `register` entry and no later one
//! replaced it (see `logged.rs`).

mod address_keys;
mod error;
mod holdings;
mod key_checks;
mod logged;
mod retire_key;
mod succession;

pub use error::RegistryError;
pub use holdings::{HeldKey, Holdings, RegisteredPolicy, Registration, RegistrationStatus};

use std::path::PathBuf;

use bitcoin::bip32::Fingerprint;

pub use crate::policy::diff::{diff_lines, render_diff, DiffLine};

use crate::audit::{Event, Registered};
use crate::policy::update::{ApprovedUpdate, PolicyUpdate};
use crate::policy::{PolicyId, Tier, VaultPolicy};
use crate::signer::keystore::{
    check_private_file, read_private, KeyStoreError, SignerHome, UnlockedSeed,
};
use crate::transport::{write_new_atomically, FileError};
use logged::{Logged, LoggedRegistrations};

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
                    key: k.id().clone(),
                    roles,
                    xpub: k.xpub().to_string(),
                }
            })
            .collect();
        let mut approvers = Vec::new();
        let mut approver_mismatches = Vec::new();
        for info in self.approvers()? {
            match policy.approver(&info.id) {
                Some(a) if *a.pubkey() == info.pubkey => approvers.push(info.id.clone()),
                Some(_) => approver_mismatches.push(info.id.clone()),
                None => {}
            }
        }
        Ok(Holdings {
            fingerprint,
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
        Ok(LoggedRegistrations::from_entries(&entries).map_err(KeyStoreError::from)?)
    }

    /// The policy in `policies/<id>.toml`, if the file exists, re-validated:
    /// it must still hash to its name. Says nothing about registration.
    fn policy_file(&self, id: &PolicyId) -> Result<Option<VaultPolicy>, RegistryError> {
        let path = self.policy_path(id);
        let Some(bytes) = read_private(&path).map_err(KeyStoreError::from)? else {
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
        check_private_file(&dir).map_err(KeyStoreError::from)?;
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
        let logged = self.logged_registrations()?;
        let registered = self.registered_policies()?;
        // With a successor registered beside its predecessor, the vault's
        // policy is the successor.
        let same_vault = registered
            .iter()
            .find(|p| p.id() == policy.id())
            .or_else(|| {
                registered
                    .iter()
                    .find(|p| p.name() == policy.name() && logged.successor_of(&p.id()).is_none())
            })
            .cloned();
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
    ///
    /// A registered policy with `[rules.policy_change]` is replaced only
    /// with an `update` its approvers approved as that rule requires
    /// ([`PolicyUpdate::approved`]): a key holder alone cannot change what
    /// the signer enforces.
    pub fn register(
        &self,
        reg: &Registration,
        same_vault: SameVault,
        update: Option<&PolicyUpdate>,
        seed: Option<&UnlockedSeed>,
    ) -> Result<(), RegistryError> {
        if reg.needs_seed() {
            self.check_own_keys(&reg.policy, seed.ok_or(RegistryError::SeedNeeded)?)?;
        }
        let old = match &reg.status {
            RegistrationStatus::AlreadyRegistered => {
                return self.make_address_keys(&reg.policy).map(|_| ())
            }
            RegistrationStatus::New => None,
            RegistrationStatus::Replaces { old, .. } if same_vault != SameVault::Refuse => {
                Some(old)
            }
            RegistrationStatus::Replaces { old, .. } => {
                return Err(RegistryError::NeedsReplace {
                    vault: reg.policy.name().to_owned(),
                    old: old.id(),
                    new: reg.policy.id(),
                })
            }
        };
        let approved = match old {
            Some(old) => approved_change(old, &reg.policy, update)?,
            None => None,
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
        // The table is made before the log entry, so that a registration
        // cut short here leaves no registered policy without its table.
        self.make_address_keys(&reg.policy)?;
        // A successor is registered beside the policy in force, which
        // stays until its funds have moved (`retire-policy`).
        let (replaced, successor_of) = match (old, same_vault) {
            (Some(old), SameVault::Successor) => (None, Some(old.id())),
            (Some(old), _) => {
                self.move_to_retired(&old.id())?;
                (Some(old.id()), None)
            }
            (None, _) => (None, None),
        };
        self.log()
            .append(&Event::Register(Registered {
                policy_id: reg.policy.id(),
                vault: reg.policy.name().to_owned(),
                network: reg.policy.network().to_string(),
                replaced,
                successor_of,
                keys_held: reg.holdings.keys.iter().map(|k| k.key.clone()).collect(),
                approvers_held: reg.holdings.approvers.clone(),
                update_approvers: approved.map_or_else(Vec::new, |a| a.approvers().to_vec()),
                // Only `register --i-understand-devices-enforce-nothing`
                // gets this far with such a policy: the log says so.
                devices_enforce_nothing: reg.policy.check_devices(false).is_err(),
            }))
            .map_err(KeyStoreError::from)?;
        Ok(())
    }
}

/// What `register` does when another policy of the same vault is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameVault {
    /// Refuse ([`RegistryError::NeedsReplace`]).
    Refuse,
    /// Replace it: it is retired at once.
    Replace,
    /// Register the new policy beside it as its successor, for a migration
    /// of its funds; it is retired later (`retire-policy`).
    Successor,
}

/// The approved change of `old` into `new`: required when `old` governs
/// its changes, checked whenever an update is given.
pub(crate) fn approved_change(
    old: &VaultPolicy,
    new: &VaultPolicy,
    update: Option<&PolicyUpdate>,
) -> Result<Option<ApprovedUpdate>, RegistryError> {
    match (update, old.rules().policy_change()) {
        (Some(u), _) => Ok(Some(u.approved(old, new)?)),
        (None, None) => Ok(None),
        (None, Some(_)) => Err(RegistryError::UpdateNeeded {
            vault: new.name().to_owned(),
            old: old.id(),
            new: new.id(),
        }),
    }
}

#[cfg(test)]
mod tests;

//! A successor policy registered beside the vault's policy in force: the
//! signer then signs a migration of the old policy's funds to the
//! successor's wallets, and retires the old policy once they have moved.

use super::{RegistryError, SignerHome};
use crate::audit::{Event, PolicyRetired};
use crate::policy::{PolicyId, VaultPolicy};
use crate::signer::keystore::KeyStoreError;

impl SignerHome {
    /// The successor registered beside policy `id`, if any (and still
    /// registered).
    pub fn registered_successor(
        &self,
        id: &PolicyId,
    ) -> Result<Option<VaultPolicy>, RegistryError> {
        let logged = self.logged_registrations()?;
        match logged.successor_of(id) {
            Some(next) => self.registered_in(&logged, &next),
            None => Ok(None),
        }
    }

    /// `retire-policy`: stops signing for policy `id`, whose successor is
    /// registered here; its file moves to `policies/retired/` and the log
    /// records it. Refused for a policy without a registered successor: a
    /// vault is never left without a policy.
    pub fn retire_policy(&self, id: &PolicyId) -> Result<PolicyId, RegistryError> {
        let old = self
            .registered_policy(id)?
            .ok_or(RegistryError::NotRegistered(*id))?;
        let next = self
            .registered_successor(id)?
            .ok_or(RegistryError::NoSuccessor(old.id()))?;
        self.move_to_retired(id)?;
        self.log()
            .append(&Event::RetirePolicy(PolicyRetired {
                policy_id: *id,
                successor: next.id(),
            }))
            .map_err(KeyStoreError::from)?;
        Ok(next.id())
    }

    /// Moves a registered policy's file to `policies/retired/`.
    pub(super) fn move_to_retired(&self, id: &PolicyId) -> Result<(), RegistryError> {
        let retired = self.subdir(self.policies_dir().join("retired"))?;
        let from = self.policy_path(id);
        let to = retired.join(format!("{id}.toml"));
        crate::crash_point::reached("retire policy file");
        std::fs::rename(&from, &to).map_err(|e| KeyStoreError::io(&from, e))?;
        crate::transport::sync_parent(&to).map_err(|e| KeyStoreError::io(&to, e))?;
        self.remove_address_keys(id)
    }
}

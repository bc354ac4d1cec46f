//! The address key table of each registered policy, `policies/<id>.keys`
//! ([`AddressKeys`]): made when the policy is registered (and by `register`
//! again for a policy registered before tables existed, or whose table was
//! damaged), read by every review of a PSBT of that policy, removed when
//! the policy is retired. A missing table only makes a review derive every
//! input's keys from the policy, as it did before tables.

use std::path::PathBuf;

use super::RegistryError;
use crate::policy::{AddressKeys, PolicyId, VaultPolicy};
use crate::signer::keystore::{read_private, KeyStoreError, SignerHome};
use crate::transport::write_atomically;

impl SignerHome {
    fn address_keys_path(&self, id: &PolicyId) -> PathBuf {
        self.policies_dir().join(format!("{id}.keys"))
    }

    /// The address key table of `policy`, if this signer has one; refused
    /// when the file is not that policy's table.
    pub fn address_keys(&self, policy: &VaultPolicy) -> Result<Option<AddressKeys>, RegistryError> {
        let path = self.address_keys_path(&policy.id());
        let Some(bytes) = read_private(&path).map_err(KeyStoreError::from)? else {
            return Ok(None);
        };
        AddressKeys::from_bytes(policy, bytes)
            .map(Some)
            .map_err(|reason| RegistryError::AddressKeys { path, reason })
    }

    /// Makes the address key table of `policy` unless a sound one is there;
    /// `true` if it was made. Derived on every core: seconds at the largest
    /// address range a policy may set.
    pub fn make_address_keys(&self, policy: &VaultPolicy) -> Result<bool, RegistryError> {
        if matches!(self.address_keys(policy), Ok(Some(_))) {
            return Ok(false);
        }
        let table = AddressKeys::derive(policy);
        let path = self.address_keys_path(&policy.id());
        write_atomically(&path, table.as_bytes()).map_err(KeyStoreError::from)?;
        Ok(true)
    }

    /// Removes the table of a policy that is retired.
    pub(super) fn remove_address_keys(&self, id: &PolicyId) -> Result<(), RegistryError> {
        let path = self.address_keys_path(id);
        crate::crash_point::reached("remove address key table");
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(KeyStoreError::io(&path, e).into()),
        }
    }
}

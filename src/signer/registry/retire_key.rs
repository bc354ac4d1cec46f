//! `retire-key`: wiping this laptop's seed once no registered policy uses
//! its key any more (after a rotation moved the funds to new keys and the
//! old policy was retired). What a thief of the laptop could still do with
//! the seed is then nothing the vault's policies allow.

use super::{RegistryError, SignerHome};
use crate::audit::{Event, KeyRetired};
use crate::signer::keystore::{KeyStoreError, Passphrase};

impl SignerHome {
    /// Wipes `seed.age` after checking the passphrase opens it and that no
    /// registered policy names a key of this seed; `key.json` (public) and
    /// the log stay, and the log records it. Approval keys are not touched.
    pub fn retire_key(&self, passphrase: &Passphrase) -> Result<(), RegistryError> {
        let seed = self.unlock_seed(passphrase)?;
        for policy in self.registered_policies()? {
            if let Some(key) = self.holdings(&policy)?.keys.first() {
                return Err(RegistryError::KeyStillUsed {
                    key: key.key.clone(),
                    policy: policy.id(),
                });
            }
        }
        let path = self.seed_path();
        // Overwritten before it is removed: a deleted file's blocks may
        // otherwise be read back from the disk.
        let len = std::fs::metadata(&path)
            .map_err(|e| KeyStoreError::io(&path, e))?
            .len();
        std::fs::write(&path, vec![0u8; len as usize]).map_err(|e| KeyStoreError::io(&path, e))?;
        std::fs::remove_file(&path).map_err(|e| KeyStoreError::io(&path, e))?;
        self.log()
            .append(&Event::RetireKey(KeyRetired {
                fingerprint: seed.fingerprint(),
            }))
            .map_err(KeyStoreError::from)?;
        Ok(())
    }
}

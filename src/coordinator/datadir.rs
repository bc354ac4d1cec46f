//! The coordinator's data directory: the vault policy it watches, the node
//! settings, one SQLite wallet per tier, the event log and the sync state.
//!
//! ```text
//! D/policy.toml     canonical policy (its hash is the policy id)
//! D/config.toml     node connection (0600: it may hold an RPC password)
//! D/cold.sqlite     watch-only bdk wallet of the cold tier
//! D/hot.sqlite      watch-only bdk wallet of the hot tier
//! D/events.jsonl    hash-chained event log
//! D/sync.json       when the wallets were last synced, and to which tip
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::audit::EventLog;
use crate::policy::{Tier, VaultPolicy};
use crate::transport::private::set_private_mode;
use crate::transport::write_atomically;

use super::error::CoordinatorError;

/// Environment variable naming the data dir.
pub const DATA_DIR_ENV: &str = "CUSTODIA_COORDINATOR_DIR";

/// The coordinator's data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

/// When the wallets were last synced.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SyncState {
    /// Unix time of the end of the last sync.
    pub unix_time: u64,
    /// Height of the node's tip then.
    pub tip_height: u32,
    /// Hash of that tip.
    pub tip_hash: String,
}

impl DataDir {
    /// The dir given on the command line, else `$CUSTODIA_COORDINATOR_DIR`
    /// (clap fills that in), else `$HOME/.custodia-coordinator`.
    pub fn resolve(flag: Option<PathBuf>) -> Result<DataDir, CoordinatorError> {
        let root = match flag {
            Some(p) => p,
            None => std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".custodia-coordinator"))
                .ok_or_else(|| {
                    CoordinatorError::BadArgument(
                        "HOME is not set; pass --data-dir or set CUSTODIA_COORDINATOR_DIR".into(),
                    )
                })?,
        };
        Ok(DataDir { root })
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates the directory (0700) if needed.
    pub fn create(&self) -> Result<(), CoordinatorError> {
        fs::create_dir_all(&self.root).map_err(|e| CoordinatorError::io(&self.root, e))?;
        Ok(set_private_mode(&self.root, 0o700)?)
    }

    /// The stored policy file.
    pub fn policy_path(&self) -> PathBuf {
        self.root.join("policy.toml")
    }
    /// The successor policy a migration pays (`propose migrate`), until
    /// `init --replace-policy` adopts it.
    pub fn successor_path(&self) -> PathBuf {
        self.root.join("successor.toml")
    }
    /// The node settings file.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.toml")
    }
    /// The SQLite wallet of a tier.
    pub fn wallet_path(&self, tier: Tier) -> PathBuf {
        self.root.join(format!("{tier}.sqlite"))
    }
    /// The event log.
    pub fn events_path(&self) -> PathBuf {
        self.root.join("events.jsonl")
    }
    /// The event log, ready to append to or verify.
    pub fn event_log(&self) -> EventLog {
        EventLog::new(self.events_path())
    }
    fn sync_path(&self) -> PathBuf {
        self.root.join("sync.json")
    }

    /// Whether `init` has run here.
    pub fn is_initialized(&self) -> bool {
        self.policy_path().is_file()
    }

    /// The stored policy, or an error saying to run `init`.
    pub fn load_policy(&self) -> Result<VaultPolicy, CoordinatorError> {
        let path = self.policy_path();
        if !path.is_file() {
            return Err(CoordinatorError::NotInitialized(self.root.clone()));
        }
        let text = fs::read_to_string(&path).map_err(|e| CoordinatorError::io(&path, e))?;
        VaultPolicy::from_toml(&text).map_err(|e| CoordinatorError::StoredPolicy {
            path,
            reason: e.to_string(),
        })
    }

    /// Stores the policy in canonical form.
    pub fn store_policy(&self, policy: &VaultPolicy) -> Result<(), CoordinatorError> {
        write_private(&self.policy_path(), policy.to_toml().as_bytes())
    }

    /// The stored successor policy, if a migration named one.
    pub fn load_successor(&self) -> Result<Option<VaultPolicy>, CoordinatorError> {
        let path = self.successor_path();
        match fs::read_to_string(&path) {
            Ok(text) => VaultPolicy::from_toml(&text).map(Some).map_err(|e| {
                CoordinatorError::StoredPolicy {
                    path,
                    reason: e.to_string(),
                }
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CoordinatorError::io(&path, e)),
        }
    }

    /// Stores the successor policy a migration pays.
    pub fn store_successor(&self, policy: &VaultPolicy) -> Result<(), CoordinatorError> {
        write_private(&self.successor_path(), policy.to_toml().as_bytes())
    }

    /// Forgets the successor once it is the policy in force.
    pub fn remove_successor(&self) -> Result<(), CoordinatorError> {
        match fs::remove_file(self.successor_path()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(CoordinatorError::io(self.successor_path(), e)),
        }
    }

    /// The last sync, if any.
    pub fn sync_state(&self) -> Result<Option<SyncState>, CoordinatorError> {
        let path = self.sync_path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                CoordinatorError::bad_file(
                    &path,
                    format!("unreadable: {e}; delete it and run `sync`"),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CoordinatorError::io(path, e)),
        }
    }

    /// Records a finished sync.
    pub fn store_sync_state(&self, state: &SyncState) -> Result<(), CoordinatorError> {
        let bytes = serde_json::to_vec_pretty(state).expect("sync state serializes");
        write_private(&self.sync_path(), &bytes)
    }
}

/// Writes a file atomically; it is created 0600 (`transport::private`).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CoordinatorError> {
    write_atomically(path, bytes)?;
    Ok(set_private_mode(path, 0o600)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_0600() {
        let dir = tempfile::tempdir().unwrap();
        let d = DataDir::resolve(Some(dir.path().join("c"))).unwrap();
        d.create().unwrap();
        write_private(&d.config_path(), b"x").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(d.root()), 0o700);
            assert_eq!(mode(&d.config_path()), 0o600);
        }
        assert!(!d.is_initialized());
        assert!(matches!(
            d.load_policy(),
            Err(CoordinatorError::NotInitialized(_))
        ));
    }
}

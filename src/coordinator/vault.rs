//! The coordinator of one vault: its data dir, policy and node, and the read
//! operations (init, status, sync, balances, addresses, coins).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bdk_wallet::KeychainKind;
use bitcoin::{Address, Amount, OutPoint};
use serde::Serialize;

use crate::audit::{Event, LogEntry, PolicyAction, PolicyAdopted};

use super::change::{check_change, read_update};
use crate::policy::{PolicyId, Tier, VaultPolicy};

use super::balance::VaultBalance;
use super::datadir::DataDir;
use super::error::CoordinatorError;
use super::node::{Config, Node, NodeArgs, NodeHealth};
use super::wallets::{TierWallet, VaultWallets};
use crate::policy::diff::changed_lines as line_diff;
use crate::progress::{Quiet, SyncProgress};

/// An initialized coordinator.
pub struct Coordinator {
    dir: DataDir,
    policy: VaultPolicy,
    node_args: NodeArgs,
    progress: Arc<dyn SyncProgress>,
}

/// What `init` did.
#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    /// The data dir.
    pub data_dir: PathBuf,
    /// The vault.
    pub vault: String,
    /// The policy id now in force.
    pub policy_id: PolicyId,
    /// What `init` did with the data dir.
    pub action: PolicyAction,
    /// The policy replaced, if any.
    pub replaced_policy_id: Option<PolicyId>,
    /// Whether the node was reached and is on the right network.
    pub node_checked: bool,
    /// Wallets started over because the new policy changed their descriptor
    /// (run `sync`).
    pub wallets_restarted: Vec<Tier>,
    /// Signing paths with keys held on devices, which enforce none of the
    /// policy's rules.
    pub device_warnings: Vec<String>,
}

/// A fresh receive address.
#[derive(Debug, Clone, Serialize)]
pub struct NewAddress {
    /// The tier.
    pub tier: Tier,
    /// The address.
    pub address: String,
    /// Its index on the receive chain.
    pub index: u32,
    /// The definite descriptor, e.g. for `generatetodescriptor`.
    pub descriptor: String,
}

/// One unspent output of the vault.
#[derive(Debug, Clone, Serialize)]
pub struct Coin {
    /// The tier.
    pub tier: Tier,
    /// The outpoint.
    pub outpoint: OutPoint,
    /// The value.
    #[serde(rename = "amount_sat", with = "bitcoin::amount::serde::as_sat")]
    pub amount: Amount,
    /// The address.
    pub address: String,
    /// `receive` or `change`.
    pub chain: String,
    /// Derivation index.
    pub index: u32,
    /// Height of the block that confirmed it, if any.
    pub confirmation_height: Option<u32>,
    /// Reserved by a pending proposal (released by `abandon`).
    pub reserved: bool,
}

impl Coordinator {
    /// `init`: stores the policy and node settings and creates the wallets.
    /// With a node configured it is checked first, so a node that is down or
    /// on the wrong network leaves nothing written.
    pub fn init(
        dir: DataDir,
        policy_file: &Path,
        node_args: NodeArgs,
        replace_policy: bool,
        update: Option<&Path>,
        start_height: Option<u32>,
        devices_understood: bool,
    ) -> Result<(Coordinator, InitReport), CoordinatorError> {
        let policy = VaultPolicy::load(policy_file).map_err(|e| CoordinatorError::BadFile {
            path: policy_file.to_owned(),
            reason: e.to_string(),
        })?;
        policy.check_devices(devices_understood)?;
        let old = if dir.is_initialized() {
            Some(dir.load_policy()?)
        } else {
            None
        };
        if let Some(old) = &old {
            if old.id() != policy.id() && !replace_policy {
                return Err(CoordinatorError::PolicyChanged {
                    old: old.id(),
                    new: policy.id(),
                    diff: line_diff(&old.to_toml(), &policy.to_toml()),
                });
            }
        }
        let stored = Config::load(&dir)?;
        let mut config = stored.clone();
        config.node = stored.node.overridden_by(&node_args);
        if let Some(h) = start_height {
            config.sync.start_height = h;
        }
        let settings = &config.node;
        let update = update.map(read_update).transpose()?;
        let mut checked_at = None;
        let approved = match &old {
            Some(old) if old.id() != policy.id() => {
                let entries = dir.event_log().verify()?.entries;
                check_change(&entries, old, &policy, update.as_ref(), || {
                    // The waiting blocks are counted on the node's chain.
                    let (node, _) = Node::connect(settings, policy.network())?;
                    let tip = u32::try_from(node.health()?.blocks).unwrap_or(u32::MAX);
                    checked_at = Some(tip);
                    Ok(tip)
                })?
            }
            _ => None,
        };
        let node_checked = settings.rpc_cookie.is_some() || settings.rpc_user.is_some();
        if node_checked {
            Node::connect(settings, policy.network())?;
        }

        dir.create()?;
        let coordinator = Coordinator {
            dir,
            policy,
            node_args,
            progress: Arc::new(Quiet),
        };
        let dir = &coordinator.dir;
        let action = match &old {
            None => PolicyAction::Created,
            Some(old) if old.id() == coordinator.policy.id() => PolicyAction::Unchanged,
            Some(_) => PolicyAction::Replaced,
        };
        let mut wallets_restarted = Vec::new();
        if let Some(old) = old.as_ref().filter(|o| o.id() != coordinator.policy.id()) {
            // Wallets whose descriptors (or network) changed start over; the
            // old database is kept beside it, named after the old policy.
            let new = &coordinator.policy;
            for tier in Tier::ALL {
                let path = dir.wallet_path(tier);
                let changed =
                    old.descriptor(tier) != new.descriptor(tier) || old.network() != new.network();
                if changed && path.exists() {
                    let aside = path.with_extension(format!("sqlite.{}", old.id().short()));
                    std::fs::rename(&path, &aside).map_err(|e| CoordinatorError::io(&path, e))?;
                    wallets_restarted.push(tier);
                }
            }
        }
        dir.store_policy(&coordinator.policy)?;
        if dir
            .load_successor()?
            .is_some_and(|next| next.id() == coordinator.policy.id())
        {
            dir.remove_successor()?;
        }
        if config != stored || !dir.config_path().exists() {
            config.store(dir)?;
        }
        for tier in Tier::ALL {
            TierWallet::open_or_create(dir, &coordinator.policy, tier)?.persist()?;
        }
        if action != PolicyAction::Unchanged {
            let policy = &coordinator.policy;
            coordinator.log(&Event::Policy(PolicyAdopted {
                policy_id: policy.id(),
                action,
                vault: policy.name().to_owned(),
                network: policy.network().to_string(),
                old_policy_id: old.as_ref().map(|o| o.id()),
                diff: old
                    .as_ref()
                    .map(|o| line_diff(&o.to_toml(), &policy.to_toml())),
                update_approvers: approved.map_or_else(Vec::new, |a| a.approvers().to_vec()),
                height: checked_at,
                devices_enforce_nothing: policy.check_devices(false).is_err(),
            }))?;
        }
        let report = InitReport {
            data_dir: dir.root().to_owned(),
            vault: coordinator.policy.name().to_string(),
            policy_id: coordinator.policy.id(),
            action,
            replaced_policy_id: old
                .filter(|o| o.id() != coordinator.policy.id())
                .map(|o| o.id()),
            node_checked,
            wallets_restarted,
            device_warnings: coordinator.policy.device_warnings(),
        };
        Ok((coordinator, report))
    }

    /// Opens an initialized data dir.
    pub fn open(dir: DataDir, node_args: NodeArgs) -> Result<Coordinator, CoordinatorError> {
        let policy = dir.load_policy()?;
        Ok(Coordinator {
            dir,
            policy,
            node_args,
            progress: Arc::new(Quiet),
        })
    }

    /// The policy.
    pub fn policy(&self) -> &VaultPolicy {
        &self.policy
    }

    /// The data dir.
    pub fn dir(&self) -> &DataDir {
        &self.dir
    }

    /// Connects to the node (flags and environment over `config.toml`).
    pub fn connect(&self) -> Result<(Node, NodeHealth), CoordinatorError> {
        let settings = Config::load(&self.dir)?.node.overridden_by(&self.node_args);
        Node::connect(&settings, self.policy.network())
    }

    /// Opens both wallets.
    pub fn wallets(&self) -> Result<VaultWallets, CoordinatorError> {
        VaultWallets::open(&self.dir, &self.policy)
    }

    /// Appends an event to the log.
    pub fn log(&self, event: &Event) -> Result<LogEntry, CoordinatorError> {
        self.dir
            .event_log()
            .append(event)
            .map_err(CoordinatorError::Log)
    }

    /// Reports the progress of every sync (including the one a proposal
    /// runs first) to `progress`; by default nothing is shown.
    pub fn with_progress(mut self, progress: Arc<dyn SyncProgress>) -> Self {
        self.progress = progress;
        self
    }

    /// Where sync progress goes.
    pub(crate) fn progress(&self) -> &dyn SyncProgress {
        self.progress.as_ref()
    }

    /// `balance` (from the wallets as of the last sync).
    pub fn balance(&self) -> Result<VaultBalance, CoordinatorError> {
        Ok(VaultBalance::of(
            &self.wallets()?,
            self.policy.rules().ratio(),
        ))
    }

    /// `address`: reveals and persists the next receive address of a tier.
    pub fn new_address(&self, tier: Tier) -> Result<NewAddress, CoordinatorError> {
        let mut tw = TierWallet::open(&self.dir, &self.policy, tier)?;
        let info = tw.reveal_next_in_range(KeychainKind::External)?;
        tw.persist()?;
        let descriptor = self
            .policy
            .descriptor(tier)
            .at(crate::policy::Chain::Receive, info.index);
        Ok(NewAddress {
            tier,
            address: info.address.to_string(),
            index: info.index,
            descriptor: descriptor.to_string(),
        })
    }

    /// `utxos`: unspent outputs of one tier or both.
    pub fn coins(&self, tier: Option<Tier>) -> Result<Vec<Coin>, CoordinatorError> {
        Ok(self.coins_in(&self.wallets()?, tier))
    }

    /// [`Coordinator::coins`] of wallets already open.
    pub(crate) fn coins_in(&self, wallets: &VaultWallets, tier: Option<Tier>) -> Vec<Coin> {
        let mut coins = Vec::new();
        for t in Tier::ALL
            .into_iter()
            .filter(|t| tier.is_none_or(|x| x == *t))
        {
            let w = wallets.tier(t).wallet();
            for o in w.list_unspent() {
                coins.push(Coin {
                    tier: t,
                    outpoint: o.outpoint,
                    amount: o.txout.value,
                    address: Address::from_script(&o.txout.script_pubkey, self.policy.network())
                        .map(|a| a.to_string())
                        .unwrap_or_default(),
                    chain: match o.keychain {
                        KeychainKind::External => "receive".into(),
                        KeychainKind::Internal => "change".into(),
                    },
                    index: o.derivation_index,
                    confirmation_height: o.chain_position.confirmation_height_upper_bound(),
                    reserved: w.is_outpoint_locked(o.outpoint),
                });
            }
        }
        coins.sort_by_key(|c| {
            (
                c.tier,
                c.confirmation_height.unwrap_or(u32::MAX),
                c.outpoint,
            )
        });
        coins
    }
}

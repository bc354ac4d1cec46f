//! The watch-only bdk wallets, one per tier, each in its own SQLite file. They
//! hold the public descriptors compiled from the policy and nothing secret.

use std::path::PathBuf;

use bdk_wallet::rusqlite::Connection;
use bdk_wallet::{ChangeSet, KeychainKind, PersistedWallet, Wallet};

use crate::policy::{AddressRule, Chain, Tier, VaultPolicy};

use super::datadir::DataDir;
use super::error::CoordinatorError;
use super::scripts::spk_cache;
use crate::transport::private::set_private_mode;

/// One tier's watch-only wallet and its database connection.
pub struct TierWallet {
    tier: Tier,
    addresses: AddressRule,
    path: PathBuf,
    conn: Connection,
    wallet: PersistedWallet<Connection>,
}

fn descriptors(policy: &VaultPolicy, tier: Tier) -> (String, String) {
    let d = policy.descriptor(tier);
    (
        d.chain(Chain::Receive).to_string(),
        d.chain(Chain::Change).to_string(),
    )
}

/// How many scripts bdk derives ahead of the last revealed one: every
/// index up to the policy's `max_index`, so a payment to any address a
/// signer may sign for shows in balances and the cold ratio. The scripts are
/// derived when the database is created and cached there
/// ([`super::scripts`]), up to [`cached_scripts`].
fn lookahead(policy: &VaultPolicy) -> u32 {
    policy.rules().addresses().max_index() + 1
}

/// Scripts cached per chain: bdk watches the lookahead beyond the last
/// revealed index, which stays within `max_index`.
fn cached_scripts(policy: &VaultPolicy) -> u32 {
    2 * lookahead(policy)
}

impl TierWallet {
    fn db_error(tier: Tier, path: &std::path::Path, reason: impl ToString) -> CoordinatorError {
        CoordinatorError::WalletDb {
            tier,
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }

    /// Opens the tier's wallet, creating it if the file does not exist yet.
    /// An existing wallet must hold exactly the policy's descriptors.
    pub fn open_or_create(
        dir: &DataDir,
        policy: &VaultPolicy,
        tier: Tier,
    ) -> Result<TierWallet, CoordinatorError> {
        let path = dir.wallet_path(tier);
        let mut conn = Connection::open(&path).map_err(|e| Self::db_error(tier, &path, e))?;
        set_private_mode(&path, 0o600)?;
        let (receive, change) = descriptors(policy, tier);
        let lookahead = lookahead(policy);
        let loaded = Wallet::load()
            .descriptor(KeychainKind::External, Some(receive.clone()))
            .descriptor(KeychainKind::Internal, Some(change.clone()))
            .check_network(policy.network())
            .lookahead(lookahead)
            .use_spk_cache(true)
            .load_wallet(&mut conn)
            .map_err(|e| {
                Self::db_error(
                    tier,
                    &path,
                    format!("{e}; the database does not match the policy — run init with --replace-policy"),
                )
            })?;
        let wallet = match loaded {
            Some(w) => w,
            None => {
                Self::create(&mut conn, policy, tier)
                    .map_err(|e| Self::db_error(tier, &path, e))?;
                Wallet::load()
                    .lookahead(lookahead)
                    .use_spk_cache(true)
                    .load_wallet(&mut conn)
                    .map_err(|e| Self::db_error(tier, &path, e))?
                    .ok_or_else(|| Self::db_error(tier, &path, "the new wallet did not load"))?
            }
        };
        Ok(TierWallet {
            tier,
            addresses: *policy.rules().addresses(),
            path,
            conn,
            wallet,
        })
    }

    /// Writes a new wallet of the tier's descriptors into `conn`, with the
    /// scripts it watches derived and cached. bdk itself derives its
    /// lookahead when it creates a wallet, but one by one and without
    /// storing them, so it is created here with none, and loaded afterwards.
    fn create(
        conn: &mut Connection,
        policy: &VaultPolicy,
        tier: Tier,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let (receive, change) = descriptors(policy, tier);
        let mut wallet = Wallet::create(receive, change)
            .network(policy.network())
            .lookahead(0)
            .use_spk_cache(true)
            .create_wallet(conn)?;
        wallet.persist(conn)?;
        let cache = ChangeSet {
            indexer: spk_cache(policy.descriptor(tier), cached_scripts(policy)),
            ..ChangeSet::default()
        };
        let db = conn.transaction()?;
        cache.persist_to_sqlite(&db)?;
        db.commit()?;
        Ok(())
    }

    /// Opens the tier's wallet of an initialized data dir.
    pub fn open(
        dir: &DataDir,
        policy: &VaultPolicy,
        tier: Tier,
    ) -> Result<TierWallet, CoordinatorError> {
        if !dir.wallet_path(tier).exists() {
            return Err(CoordinatorError::NotInitialized(dir.root().to_owned()));
        }
        Self::open_or_create(dir, policy, tier)
    }

    /// The tier.
    pub fn tier(&self) -> Tier {
        self.tier
    }

    /// The bdk wallet.
    pub fn wallet(&self) -> &Wallet {
        &self.wallet
    }

    /// The bdk wallet, to change. Call [`TierWallet::persist`] afterwards.
    pub fn wallet_mut(&mut self) -> &mut Wallet {
        &mut self.wallet
    }

    /// Reveals the next address of a chain, unless it lies beyond the
    /// policy's `max_index`: signers refuse to pay there and nobody watches it.
    pub fn reveal_next_in_range(
        &mut self,
        keychain: KeychainKind,
    ) -> Result<bdk_wallet::AddressInfo, CoordinatorError> {
        let index = self.wallet.next_derivation_index(keychain);
        self.check_in_range(keychain, index)?;
        Ok(self.wallet.reveal_next_address(keychain))
    }

    /// Refuses an index beyond the policy's `max_index`.
    pub fn check_in_range(
        &self,
        keychain: KeychainKind,
        index: u32,
    ) -> Result<(), CoordinatorError> {
        if self.addresses.contains(index) {
            return Ok(());
        }
        Err(CoordinatorError::AddressRangeUsedUp {
            tier: self.tier,
            chain: match keychain {
                KeychainKind::External => "receive",
                KeychainKind::Internal => "change",
            },
            index,
            max_index: self.addresses.max_index(),
        })
    }

    /// Writes staged changes to the database.
    pub fn persist(&mut self) -> Result<(), CoordinatorError> {
        crate::crash_point::reached("persist wallet database");
        self.wallet
            .persist(&mut self.conn)
            .map(|_| ())
            .map_err(|e| Self::db_error(self.tier, &self.path, e))
    }
}

/// Both wallets of the vault.
pub struct VaultWallets {
    /// The cold tier.
    pub cold: TierWallet,
    /// The hot tier.
    pub hot: TierWallet,
}

impl VaultWallets {
    /// Opens both wallets of an initialized data dir, each on a core:
    /// loading reads and re-indexes every transaction of the wallet.
    pub fn open(dir: &DataDir, policy: &VaultPolicy) -> Result<VaultWallets, CoordinatorError> {
        let (cold, hot) = rayon::join(
            || TierWallet::open(dir, policy, Tier::Cold),
            || TierWallet::open(dir, policy, Tier::Hot),
        );
        Ok(VaultWallets {
            cold: cold?,
            hot: hot?,
        })
    }

    /// One tier's wallet.
    pub fn tier(&self, tier: Tier) -> &TierWallet {
        match tier {
            Tier::Cold => &self.cold,
            Tier::Hot => &self.hot,
        }
    }

    /// One tier's wallet, to change.
    pub fn tier_mut(&mut self, tier: Tier) -> &mut TierWallet {
        match tier {
            Tier::Cold => &mut self.cold,
            Tier::Hot => &mut self.hot,
        }
    }

    /// Both wallets, to change: (source, destination) for a move `from` → `from.other()`.
    pub fn pair_mut(&mut self, from: Tier) -> (&mut TierWallet, &mut TierWallet) {
        match from {
            Tier::Cold => (&mut self.cold, &mut self.hot),
            Tier::Hot => (&mut self.hot, &mut self.cold),
        }
    }
}

//! A coordinator for tests: the example exchange vault (cold 3-of-5, hot
//! 2-of-3, at least 80 % cold, hot target 10 %) in a temporary data dir,
//! with no node configured, beside a [`MemoryChain`] to fund and sync it.
//!
//! The policy's address range is cut from 1000 to [`MAX_INDEX`]: the wallets
//! derive every script of the range when created, which in a debug build
//! costs seconds per test and tests nothing more.

use std::path::{Path, PathBuf};

use bitcoin::hashes::Hash;
use bitcoin::key::Keypair;
use bitcoin::secp256k1::Secp256k1;
use bitcoin::{Address, Amount, FeeRate, OutPoint, Psbt, Transaction};

use crate::policy::{ApproverId, Tier};
use crate::psbt::approvals::sign_approval;
use crate::psbt::{add_approval, Movement};

use super::datadir::DataDir;
use super::error::CoordinatorError;
use super::memory_chain::MemoryChain;
use super::node::NodeArgs;
use super::proposal::Proposal;
use super::vault::Coordinator;

/// The highest address index of the test vault.
pub(crate) const MAX_INDEX: u32 = 20;

/// The fee rate of proposals that do not test fees: 2 sat/vB.
pub(crate) const FEE_RATE: FeeRate = FeeRate::from_sat_per_kwu(500);

/// One BTC.
pub(crate) const BTC: u64 = 100_000_000;

/// The example vault, its data dir and its chain.
pub(crate) struct TestVault {
    /// Keeps the data dir until the test ends.
    dir: tempfile::TempDir,
    /// The coordinator.
    pub(crate) coordinator: Coordinator,
    /// The chain it syncs from.
    pub(crate) chain: MemoryChain,
}

impl TestVault {
    /// A new vault over a chain of only its genesis block.
    pub(crate) fn new() -> TestVault {
        let dir = tempfile::tempdir().expect("a temporary dir");
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/regtest-exchange.toml");
        let text = std::fs::read_to_string(&example).expect("the example policy");
        assert!(
            text.contains("max_index = 1000"),
            "the example's address range moved"
        );
        let policy = dir.path().join("policy.toml");
        std::fs::write(
            &policy,
            text.replace("max_index = 1000", &format!("max_index = {MAX_INDEX}")),
        )
        .expect("the policy written");
        let data = DataDir::resolve(Some(dir.path().join("coordinator"))).expect("a data dir");
        let (coordinator, _) =
            Coordinator::init(data, &policy, NodeArgs::default(), false, None, None, false)
                .expect("init without a node");
        let chain = MemoryChain::new(coordinator.policy().network());
        TestVault {
            dir,
            coordinator,
            chain,
        }
    }

    /// A path for an output file of the test.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A fresh receive address of `tier`.
    pub(crate) fn address(&self, tier: Tier) -> Address {
        let a = self.coordinator.new_address(tier).expect("an address");
        a.address
            .parse::<Address<_>>()
            .expect("a valid address")
            .assume_checked()
    }

    /// A payment of `sat` to a fresh address of `tier`, not yet mined.
    pub(crate) fn payment(&self, tier: Tier, sat: u64) -> Transaction {
        self.chain
            .payment(self.address(tier).script_pubkey(), Amount::from_sat(sat))
    }

    /// Pays `sat` to a fresh address of `tier` in a new block; the coin.
    pub(crate) fn fund(&self, tier: Tier, sat: u64) -> OutPoint {
        let tx = self.payment(tier, sat);
        let coin = OutPoint::new(tx.compute_txid(), 0);
        self.chain.mine(vec![tx]);
        coin
    }

    /// Proposes moving `sat` from `from` to the other tier at [`FEE_RATE`],
    /// into the test file `name`.
    pub(crate) fn transfer(
        &self,
        from: Tier,
        sat: u64,
        name: &str,
    ) -> Result<Proposal, CoordinatorError> {
        self.coordinator.propose_transfer_on(
            &self.chain,
            from,
            from.other(),
            Amount::from_sat(sat),
            Some(FEE_RATE),
            &self.file(name),
        )
    }

    /// Proposes a rebalance at [`FEE_RATE`] into the test file `name`.
    pub(crate) fn rebalance(&self, name: &str) -> Result<Option<Proposal>, CoordinatorError> {
        self.coordinator
            .propose_rebalance_on(&self.chain, Some(FEE_RATE), &self.file(name))
    }

    /// Reads a PSBT the coordinator wrote.
    pub(crate) fn read_psbt(&self, path: &Path) -> Psbt {
        self.coordinator
            .read_psbt(path)
            .expect("a PSBT of the vault")
    }

    /// Adds the approval of `approver` (test key) to `psbt` for `movement`.
    pub(crate) fn approve(&self, psbt: &mut Psbt, approver: &str, movement: Movement) {
        let policy = self.coordinator.policy();
        let id: ApproverId = approver.parse().expect("an approver id");
        let txid = psbt.unsigned_tx.compute_txid();
        let approval = sign_approval(policy, txid, movement, &id, &approver_keypair(approver));
        add_approval(policy, psbt, &approval).expect("a valid approval");
    }

    /// Writes `psbt` to a new file of the test.
    pub(crate) fn write_psbt(&self, name: &str, psbt: &Psbt) -> PathBuf {
        let path = self.file(name);
        std::fs::write(&path, psbt.to_string()).expect("the PSBT written");
        path
    }
}

/// The approval key of a test approver: the secret is SHA-256 of
/// `custodia test-only approver ID` (see `tests/data/test-keys.toml`).
pub(crate) fn approver_keypair(id: &str) -> Keypair {
    let secret =
        bitcoin::hashes::sha256::Hash::hash(format!("custodia test-only approver {id}").as_bytes());
    Keypair::from_seckey_slice(&Secp256k1::new(), secret.as_byte_array())
        .expect("a valid secret key")
}

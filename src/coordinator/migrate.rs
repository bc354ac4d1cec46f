//! `propose migrate`: moving one tier's coins to the same tier of the
//! vault's successor policy (a key rotation, a sweep after a suspected
//! compromise). The successor must be the approved, announced change of the
//! policy in force whose waiting blocks have passed, as for adopting it;
//! signers sign only to a successor they registered with its approvals.

use std::path::Path;

use bitcoin::{FeeRate, Psbt};

use crate::audit::Event;
use crate::policy::{Chain, Tier, VaultPolicy};
use crate::psbt::{DailySpending, Review};

use super::chain::ChainSource;
use super::change::{check_change, read_update};
use super::error::CoordinatorError;
use super::node_chain::NodeOnDemand;
use super::proposal::Proposal;
use super::propose::{build_spend, Spend};
use super::vault::Coordinator;

/// The most coins one migration spends when no cap is given.
pub const DEFAULT_MIGRATION_INPUTS: usize = 200;

/// A move of one tier's coins to the same tier of the successor policy
/// (`propose migrate`, `propose recovery`).
#[derive(Debug, Clone)]
pub struct SuccessorMove {
    pub(crate) tier: Tier,
    pub(crate) next: VaultPolicy,
    pub(crate) update: Option<crate::policy::update::PolicyUpdate>,
    pub(crate) max_inputs: Option<usize>,
    pub(crate) fee_rate: Option<FeeRate>,
}

impl SuccessorMove {
    /// Reads the successor policy and its update file.
    pub fn load(
        tier: Tier,
        successor: &Path,
        update: Option<&Path>,
        max_inputs: Option<usize>,
        fee_rate: Option<FeeRate>,
    ) -> Result<SuccessorMove, CoordinatorError> {
        let next = VaultPolicy::load(successor).map_err(|e| CoordinatorError::BadFile {
            path: successor.to_owned(),
            reason: e.to_string(),
        })?;
        let update = update.map(read_update).transpose()?;
        Ok(SuccessorMove {
            tier,
            next,
            update,
            max_inputs,
            fee_rate,
        })
    }
}

impl Coordinator {
    /// The successor a migration pays, if `propose migrate` named one.
    pub fn successor(&self) -> Result<Option<VaultPolicy>, CoordinatorError> {
        self.dir().load_successor()
    }

    /// The signers' review of `psbt`, knowing the successor.
    pub(crate) fn review(
        &self,
        psbt: &Psbt,
        spending: &DailySpending,
    ) -> Result<Review, CoordinatorError> {
        let successor = self.successor()?;
        Ok(Review::with_successor(
            self.policy(),
            successor.as_ref(),
            psbt,
            spending,
        ))
    }

    /// `propose migrate`: up to `max_inputs` of the tier's confirmed,
    /// unreserved coins (largest first) to a fresh receive address of the
    /// successor's same tier. Run it again for the rest.
    pub fn propose_migrate(
        &self,
        m: &SuccessorMove,
        out: &Path,
    ) -> Result<Option<Proposal>, CoordinatorError> {
        self.propose_migrate_on(&NodeOnDemand::new(self), m, out)
    }

    /// [`Coordinator::propose_migrate`] on `chain`.
    pub(crate) fn propose_migrate_on(
        &self,
        chain: &dyn ChainSource,
        m: &SuccessorMove,
        out: &Path,
    ) -> Result<Option<Proposal>, CoordinatorError> {
        let SuccessorMove {
            tier,
            next,
            update,
            max_inputs,
            fee_rate,
        } = m;
        let (tier, max_inputs, fee_rate) = (*tier, *max_inputs, *fee_rate);
        let to = self.successor_address(chain, tier, next, update.as_ref())?;
        let (mut wallets, fee_rate) = self.prepare_proposal(chain, fee_rate, out)?;
        let wallet = wallets.tier(tier).wallet();
        let mut coins: Vec<_> = wallet
            .list_unspent()
            .filter(|o| !wallet.is_outpoint_locked(o.outpoint))
            .filter(|o| o.chain_position.is_confirmed())
            .map(|o| (o.txout.value, o.outpoint))
            .collect();
        coins.sort_by(|a, b| b.cmp(a));
        coins.truncate(max_inputs.unwrap_or(DEFAULT_MIGRATION_INPUTS));
        if coins.is_empty() {
            return Ok(None);
        }
        let index = self.migrations_proposed()?;
        let spend = Spend::Sweep {
            to: to.script_pubkey(),
            coins: coins.iter().map(|(_, o)| *o).collect(),
        };
        let mut psbt = build_spend(&mut wallets, tier, spend, fee_rate)?;
        // Signers find the successor's wallet from this derivation.
        use miniscript::psbt::PsbtExt;
        psbt.update_output_with_descriptor(0, &to)
            .map_err(|e| CoordinatorError::Build {
                what: "migration".into(),
                reason: format!("cannot add the successor's derivation: {e}"),
            })?;
        let mut proposal = self.complete_proposal(&mut wallets, tier, psbt, fee_rate, None, out)?;
        proposal.note = Some(format!(
            "moves {} {tier} coin(s) to the successor policy {} (receive index {index}); run it again for coins left",
            coins.len(),
            next.id().short()
        ));
        Ok(Some(proposal))
    }

    /// The successor's receive address a migration of `tier` pays, once
    /// the change passes the same gate as adopting it (approvals,
    /// announcement, wait), the tier's wallet differs in it, and no other
    /// successor is under way. Stores the successor.
    pub(crate) fn successor_address(
        &self,
        chain: &dyn ChainSource,
        tier: Tier,
        next: &VaultPolicy,
        update: Option<&crate::policy::update::PolicyUpdate>,
    ) -> Result<miniscript::Descriptor<miniscript::DefiniteDescriptorKey>, CoordinatorError> {
        let old = self.policy();
        crate::policy::update::PolicyUpdate::new(old, next)?;
        if old.descriptor(tier) == next.descriptor(tier) {
            return Err(CoordinatorError::BadArgument(format!(
                "the {tier} wallet is the same in the successor policy (no key of it changed): its coins stay where they are and are the successor's once it is adopted"
            )));
        }
        // The same gate as adopting it: approvals, announcement, wait.
        check_change(&self.log_entries()?, old, next, update, || {
            Ok(u32::try_from(chain.health()?.blocks).unwrap_or(u32::MAX))
        })?;
        if let Some(stored) = self.successor()? {
            if stored.id() != next.id() {
                return Err(CoordinatorError::OtherSuccessor {
                    stored: stored.id(),
                    given: next.id(),
                });
            }
        }
        // Each migration pays a fresh address of the successor.
        let index = self.migrations_proposed()?;
        let max_index = next.rules().addresses().max_index();
        if index > max_index {
            return Err(CoordinatorError::AddressRangeUsedUp {
                tier,
                chain: "successor receive",
                index,
                max_index,
            });
        }
        self.dir().store_successor(next)?;
        Ok(next.descriptor(tier).at(Chain::Receive, index))
    }

    /// How many migrations this coordinator proposed.
    fn migrations_proposed(&self) -> Result<u32, CoordinatorError> {
        let n = self
            .log_events()?
            .into_iter()
            .filter(|(_, e)| matches!(e, Event::Proposal(p) if p.movement.is_migration()))
            .count();
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::SuccessorMove;
    use crate::coordinator::error::CoordinatorError;
    use crate::coordinator::test_vault::{TestVault, BTC, FEE_RATE};
    use crate::policy::{Tier, VaultPolicy};
    use crate::psbt::{Destination, Movement, RuleId};

    /// A move of `tier` to `next` at the test fee rate.
    pub(crate) fn moving(tier: Tier, next: &VaultPolicy) -> SuccessorMove {
        SuccessorMove {
            tier,
            next: next.clone(),
            update: None,
            max_inputs: None,
            fee_rate: Some(FEE_RATE),
        }
    }

    /// The test vault's policy with a 2-of-5 cold wallet: cold changes, hot
    /// does not.
    fn successor(v: &TestVault) -> VaultPolicy {
        let text = v.coordinator.policy().to_toml();
        let next = text.replacen("threshold = 3", "threshold = 2", 1);
        assert_ne!(next, text);
        VaultPolicy::from_toml(&next).unwrap()
    }

    #[test]
    fn a_migration_pays_the_successors_same_tier_and_needs_cold_approvals() {
        let v = TestVault::new();
        v.fund(Tier::Cold, BTC);
        v.fund(Tier::Cold, 2 * BTC);
        let next = successor(&v);
        let out = v.file("migrate.psbt");
        let p = v
            .coordinator
            .propose_migrate_on(&v.chain, &moving(Tier::Cold, &next), &out)
            .unwrap()
            .expect("coins to migrate");
        assert_eq!(p.movement, Movement::ColdMigration);
        assert_eq!(p.outputs.len(), 1);
        assert_eq!(p.outputs[0].role, "successor cold");
        assert_eq!(p.outputs[0].amount.to_sat(), 3 * BTC - p.fee.to_sat());

        let psbt = v.read_psbt(&out);
        let r = v
            .coordinator
            .review(&psbt, &v.coordinator.daily_spending().unwrap())
            .unwrap();
        assert_eq!(
            r.outputs()[0].destination,
            Destination::Successor { tier: Tier::Cold }
        );
        let failing: Vec<RuleId> = r.failures().map(|c| c.rule).collect();
        assert_eq!(failing, [RuleId::Approvals], "{}", r.to_text());
        // Without the successor, the same PSBT is a payout from cold.
        let plain = crate::psbt::Review::of(
            v.coordinator.policy(),
            &psbt,
            &v.coordinator.daily_spending().unwrap(),
        );
        assert_eq!(plain.movement(), Some(Movement::ColdPayout));
        assert!(!plain.passes());
    }

    #[test]
    fn an_unchanged_tier_or_another_successor_is_refused() {
        let v = TestVault::new();
        v.fund(Tier::Hot, BTC);
        v.fund(Tier::Cold, BTC);
        let next = successor(&v);
        let err = v
            .coordinator
            .propose_migrate_on(&v.chain, &moving(Tier::Hot, &next), &v.file("h.psbt"))
            .unwrap_err();
        assert!(matches!(err, CoordinatorError::BadArgument(_)));
        assert!(!v.file("h.psbt").exists());

        v.coordinator
            .propose_migrate_on(&v.chain, &moving(Tier::Cold, &next), &v.file("c.psbt"))
            .unwrap();
        let other = VaultPolicy::from_toml(&v.coordinator.policy().to_toml().replacen(
            "threshold = 3",
            "threshold = 4",
            1,
        ))
        .unwrap();
        v.fund(Tier::Cold, BTC);
        let err = v
            .coordinator
            .propose_migrate_on(&v.chain, &moving(Tier::Cold, &other), &v.file("o.psbt"))
            .unwrap_err();
        assert!(matches!(err, CoordinatorError::OtherSuccessor { .. }));
    }
}

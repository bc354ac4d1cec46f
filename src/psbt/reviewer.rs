//! The reviewer: reads a PSBT's facts against the policy (every input and
//! output re-derived, the movement, the amounts, the fee, the approvals),
//! then has the judge judge every rule. Kept apart from [`Review`] itself so
//! that the judge, which reads a review, and the reviewer, which calls the
//! judge, do not depend on each other.

use bitcoin::{Amount, Psbt, Weight};

use super::anomalies::checked_total;
use super::approvals::approval_status;
use super::classify::{review_inputs, review_outputs, Deriver, Destination};
use super::daily::DailySpending;
use super::fields::{policy_tag, PolicyTag};
use super::judge::{daily as daily_rule, evaluate};
use super::proof::mark_challenge;
use super::review::Review;
use crate::policy::rules::{Movement, RuleId};
use crate::policy::{AddressKeys, Tier, VaultPolicy};

/// What a PSBT is reviewed against: the policy it names, and on a signer
/// the vault's registered successor and the policy's address key table.
#[derive(Debug, Clone, Copy)]
pub struct ReviewBasis<'a> {
    /// The registered policy.
    pub policy: &'a VaultPolicy,
    /// The vault's registered successor policy, if any: a PSBT that moves
    /// one tier wholly to the successor's same tier is a migration; any
    /// other payment to the successor is a payment outside the vault.
    pub successor: Option<&'a VaultPolicy>,
    /// The policy's table of address keys, if the signer has one: the
    /// inputs' scripts are read from it instead of derived.
    pub address_keys: Option<&'a AddressKeys>,
}

impl<'a> ReviewBasis<'a> {
    /// `policy` alone: no successor, no address key table.
    pub fn of(policy: &'a VaultPolicy) -> Self {
        ReviewBasis {
            policy,
            successor: None,
            address_keys: None,
        }
    }
}

impl Review {
    /// Reviews `psbt` against `policy`, with what was moved in the 24 hours before.
    pub fn of(policy: &VaultPolicy, psbt: &Psbt, spending: &DailySpending) -> Review {
        Review::with_successor(policy, None, psbt, spending)
    }

    /// Reviews `psbt` against `policy`, knowing the vault's registered
    /// `successor` policy: a PSBT that moves one tier wholly to the
    /// successor's same tier is a migration; any other payment to the
    /// successor is a payment outside the vault.
    pub fn with_successor(
        policy: &VaultPolicy,
        successor: Option<&VaultPolicy>,
        psbt: &Psbt,
        spending: &DailySpending,
    ) -> Review {
        let basis = ReviewBasis {
            successor,
            ..ReviewBasis::of(policy)
        };
        Review::against(basis, psbt, spending)
    }

    /// Reviews `psbt` against what `basis` holds.
    pub fn against(basis: ReviewBasis<'_>, psbt: &Psbt, spending: &DailySpending) -> Review {
        let ReviewBasis {
            policy,
            successor,
            address_keys,
        } = basis;
        // Inputs may be read from the address key table; outputs, which
        // say where funds go, are always derived from the policy.
        let mut spent_from = Deriver::with_table(policy, address_keys);
        let mut deriver = Deriver::new(policy);
        let mut next = successor.map(Deriver::new);
        let mut inputs = review_inputs(&mut spent_from, psbt);
        let address_keys_set_aside = spent_from.table_set_aside();
        let outputs = review_outputs(&mut deriver, next.as_mut(), psbt);
        let txid = psbt.unsigned_tx.compute_txid();
        let proof = mark_challenge(psbt, &mut inputs);

        let tiers: std::collections::BTreeSet<Option<Tier>> = inputs
            .iter()
            .filter(|i| !i.challenge)
            .map(|i| i.owner.map(|o| o.tier))
            .collect();
        let source = match tiers.into_iter().collect::<Vec<_>>().as_slice() {
            [Some(t)] => Some(*t),
            _ => None,
        };
        let movement = source.map(|t| {
            if proof.is_some() {
                return Movement::proof_of(t);
            }
            let migrates = !outputs.is_empty()
                && outputs
                    .iter()
                    .all(|o| o.destination == Destination::Successor { tier: t });
            if migrates {
                return Movement::migration_of(t);
            }
            // Anything else paid to the successor leaves this vault.
            let external = outputs.iter().any(|o| {
                matches!(
                    o.destination,
                    Destination::External { .. } | Destination::Successor { .. }
                )
            });
            let other = outputs
                .iter()
                .any(|o| o.destination == Destination::Vault { tier: t.other() });
            Movement::of(t, external, other)
        });
        // Payouts count what goes outside (what the payout limits are
        // about); transfers count what goes to the other tier.
        // Every sum is checked: a crafted PSBT may carry amounts that wrap
        // a u64. The cap keeps later arithmetic (daily totals) in range; the
        // `output-values` rule refuses such a transaction.
        let moved_sat = match (source, movement) {
            (Some(t), Some(m)) => checked_total(
                outputs
                    .iter()
                    .filter(|o| match m {
                        Movement::HotPayout | Movement::ColdPayout => {
                            !matches!(o.destination, Destination::Vault { .. })
                        }
                        Movement::ColdMigration | Movement::HotMigration => true,
                        Movement::ColdProof | Movement::HotProof => false,
                        _ => o.destination == Destination::Vault { tier: t.other() },
                    })
                    .map(|o| o.amount.to_sat()),
            )
            .unwrap_or(Amount::MAX_MONEY.to_sat()),
            _ => 0,
        };
        let input_total_sat = inputs
            .iter()
            .map(|i| i.amount.map(Amount::to_sat))
            .try_fold(0u64, |acc, a| a.and_then(|a| acc.checked_add(a)));
        let output_total_sat = checked_total(outputs.iter().map(|o| o.amount.to_sat()));
        let fee_sat = match (input_total_sat, output_total_sat) {
            (Some(i), Some(o)) => i64::try_from(i)
                .ok()
                .and_then(|i| i.checked_sub(i64::try_from(o).ok()?)),
            _ => None,
        };
        let satisfaction: Weight = inputs
            .iter()
            .filter_map(|i| i.descriptor.as_ref())
            .filter_map(|d| d.max_weight_to_satisfy().ok())
            .fold(Weight::ZERO, |a, b| a + b);
        // Segwit marker and flag add 2 weight units to the unsigned weight.
        let weight = psbt.unsigned_tx.weight() + Weight::from_wu(2) + satisfaction;
        let approvals = movement.map(|m| approval_status(policy, psbt, m));
        let psbt_policy_id = match policy_tag(psbt) {
            PolicyTag::Present(id) => Some(id.to_string()),
            PolicyTag::Malformed => Some("(malformed)".into()),
            PolicyTag::Missing => None,
        };
        // The recovery path: every vault input waits exactly the source
        // wallet's timelock (BIP-68 blocks); the judge allows it only for
        // a migration to the registered successor.
        let recovery = match source.and_then(|t| policy.wallet(t).recovery()) {
            Some(path) => inputs
                .iter()
                .filter(|i| !i.challenge)
                .all(|i| i.sequence == u32::from(path.after_blocks())),
            None => false,
        };
        let mut review = Review {
            vault: policy.name().to_owned(),
            proof,
            network: policy.network().to_string(),
            policy_id: policy.id(),
            psbt_policy_id,
            txid,
            source,
            movement,
            moved_sat,
            inputs,
            outputs,
            input_total_sat,
            output_total_sat,
            fee_sat,
            vsize: weight.to_vbytes_ceil(),
            lock_time: psbt.unsigned_tx.lock_time.to_consensus_u32(),
            approvals,
            spending: spending.clone(),
            recovery,
            rules: Vec::new(),
            would_sign: false,
            address_keys_set_aside,
        };
        review.rules = evaluate(policy, psbt, &review);
        review.would_sign = review.rules.iter().all(|r| r.passed);
        review
    }

    /// The same review with the daily limit judged again on `spending`: a
    /// signer judges it once more, under its log's lock, just before it
    /// records a signature, since another session may have signed meanwhile.
    pub(crate) fn with_spending(&self, policy: &VaultPolicy, spending: &DailySpending) -> Review {
        let mut r = self.clone();
        r.spending = spending.clone();
        let check = daily_rule(policy, &r);
        if let Some(old) = r.rules.iter_mut().find(|c| c.rule == RuleId::DailyLimit) {
            *old = check;
        }
        r.would_sign = r.rules.iter().all(|c| c.passed);
        r
    }
}

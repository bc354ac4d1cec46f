//! Judging one vault spend against the coordinator's log and the policy it
//! was proposed under, with the policy's own rule checks.

use std::collections::BTreeSet;

use bitcoin::{Address, Amount};
use serde::Serialize;

use super::history::{OutputDestination, VaultSpend};
use super::Evidence;
use crate::policy::approval::verify_approval;
use crate::policy::rules::{
    check_amount, check_approvals, check_destinations, Movement, OutsidePayment, RuleCheck,
};
use crate::policy::{PolicyId, Tier, VaultPolicy};

/// What is wrong with a vault spend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SpendProblem {
    /// The coordinator's log has no proposal of this transaction: the vault's
    /// keys signed it outside custodia.
    #[error("no proposal of this transaction in the coordinator's log: the vault's keys signed it outside custodia")]
    NotProposed,
    /// It was proposed under a policy the auditor was not given.
    #[error("proposed under policy {policy_id}, which was not given; pass that policy with --policy to judge it")]
    PolicyNotGiven {
        /// The proposal's policy.
        policy_id: PolicyId,
    },
    /// The coins it spends are not all scripts of the policy it was proposed
    /// under.
    #[error(
        "it spends coins that policy {policy_id}, under which it was proposed, does not derive"
    )]
    NotThatPolicysCoins {
        /// The proposal's policy.
        policy_id: PolicyId,
    },
    /// It spends coins of both tiers at once (or coins not of the vault).
    #[error("it spends coins of both tiers, or coins not of the vault, together: custodia never builds such a transaction")]
    NotOneTier,
    /// What happened on chain is another movement than the one proposed.
    #[error("proposed as a {}, but on chain it is a {}", .proposed.describe(), .on_chain.describe())]
    OtherMovement {
        /// The proposal's movement.
        proposed: Movement,
        /// The movement on chain.
        on_chain: Movement,
    },
    /// A rule of the policy does not hold for it.
    #[error("rule {}: {}", .0.rule.as_str(), .0.reason)]
    RuleFails(RuleCheck),
}

/// The movement on chain: its source, kind, and what it moved.
pub(super) struct OnChain {
    pub(super) source: Tier,
    pub(super) movement: Movement,
    pub(super) moved: Amount,
}

/// The source tier, movement and amount moved of `spend` under policy
/// `policy_id`, if every input is of one tier. Outputs that only another
/// given policy derives, all in the source tier, are a migration to that
/// successor.
pub(super) fn on_chain(spend: &VaultSpend, policy_id: Option<PolicyId>) -> Option<OnChain> {
    let tiers: BTreeSet<Tier> = spend.inputs.iter().map(|i| i.tier).collect();
    let [source] = tiers.into_iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    if spend.foreign_inputs > 0 {
        return None;
    }
    let migrates = policy_id.is_some()
        && !spend.outputs.is_empty()
        && spend.outputs.iter().all(|o| {
            matches!(&o.destination, OutputDestination::Vault { tier, policies }
                if *tier == source && !policy_id.is_some_and(|id| policies.contains(&id)))
        });
    if migrates {
        let moved = spend
            .outputs
            .iter()
            .try_fold(Amount::ZERO, |a, o| a.checked_add(o.amount))?;
        return Some(OnChain {
            source,
            movement: Movement::migration_of(source),
            moved,
        });
    }
    let (mut to_other, mut outside) = (Amount::ZERO, Amount::ZERO);
    let (mut pays_other, mut pays_outside) = (false, false);
    for o in &spend.outputs {
        match o.destination {
            OutputDestination::Vault { tier, .. } if tier != source => {
                pays_other = true;
                to_other = to_other.checked_add(o.amount)?;
            }
            OutputDestination::Vault { .. } => {}
            OutputDestination::External { .. } => {
                pays_outside = true;
                outside = outside.checked_add(o.amount)?;
            }
        }
    }
    let movement = Movement::of(source, pays_outside, pays_other);
    let moved = match movement {
        Movement::HotPayout | Movement::ColdPayout => outside,
        Movement::ColdToHot | Movement::HotToCold => to_other,
        _ => Amount::ZERO,
    };
    Some(OnChain {
        source,
        movement,
        moved,
    })
}

/// Every problem of `spend`, judged with `evidence` from the logs and the
/// given `policies`.
pub(super) fn problems(
    spend: &VaultSpend,
    evidence: &Evidence,
    policies: &[VaultPolicy],
) -> Vec<SpendProblem> {
    let Some(proposal) = evidence.proposals.get(&spend.txid) else {
        return vec![SpendProblem::NotProposed];
    };
    let policy_id = proposal.policy_id;
    let Some(policy) = policies.iter().find(|p| p.id() == policy_id) else {
        return vec![SpendProblem::PolicyNotGiven { policy_id }];
    };
    if !spend.policies.contains(&policy_id) {
        return vec![SpendProblem::NotThatPolicysCoins { policy_id }];
    }
    let Some(chain) = on_chain(spend, Some(policy_id)) else {
        return vec![SpendProblem::NotOneTier];
    };
    let mut out = Vec::new();
    if chain.movement != proposal.movement {
        out.push(SpendProblem::OtherMovement {
            proposed: proposal.movement,
            on_chain: chain.movement,
        });
    }
    let outside: Vec<OutsidePayment> = spend
        .outputs
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o.destination, OutputDestination::External { .. }))
        .map(|(i, o)| {
            let address = Address::from_script(&o.script, policy.network()).ok();
            OutsidePayment {
                output: i,
                allowed: address
                    .as_ref()
                    .is_some_and(|a| policy.rules().payouts().allows(a)),
                address: address.map(|a| a.to_string()),
            }
        })
        .collect();
    let checks = [
        check_destinations(Some(chain.source), &outside),
        check_amount(policy, Some(chain.movement), chain.moved, outside.len()),
        approvals_check(spend, evidence, policy, chain.movement),
    ];
    out.extend(
        checks
            .into_iter()
            .filter(|c| !c.passed)
            .map(SpendProblem::RuleFails),
    );
    out
}

/// The approvals rule over the approvals the coordinator logged for this
/// transaction, counting only those whose signature verifies under the
/// policy (an approval logged without its signature does not count).
fn approvals_check(
    spend: &VaultSpend,
    evidence: &Evidence,
    policy: &VaultPolicy,
    movement: Movement,
) -> RuleCheck {
    let mut approvers = BTreeSet::new();
    let mut departments = BTreeSet::new();
    for a in evidence.approvals.iter().filter(|a| a.txid == spend.txid) {
        let Some(signature) = &a.signature else {
            continue;
        };
        if a.movement == movement
            && verify_approval(policy, spend.txid, movement, &a.approver, signature)
            && approvers.insert(a.approver.clone())
        {
            let known = policy
                .approver(&a.approver)
                .expect("verified approvers are known");
            departments.insert(known.department().to_owned());
        }
    }
    check_approvals(
        policy.rules().cold_to_hot(),
        Some(movement),
        approvers.len(),
        &departments,
    )
}

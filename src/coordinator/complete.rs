//! Completing a built proposal: what signers need is added (the
//! derivations of every vault output and the policy id), the result is
//! reviewed by the signers' own rules and the cold ratio, and only then
//! written, its coins reserved and the proposal logged.

use std::path::Path;

use bdk_wallet::KeychainKind;
use bitcoin::{Amount, FeeRate, Psbt, Txid};
use miniscript::psbt::PsbtExt;

use crate::audit::{Event, Proposed};
use crate::policy::{Chain, Tier};
use crate::psbt::{set_policy_id, Destination, Movement, Review, RuleCheck, RuleId};
use crate::transport::write_new_atomically;

use super::balance::{percent, VaultBalance};
use super::error::{CoordinatorError, Refusal};
use super::proposal::{Proposal, ProposedOutput};
use super::vault::Coordinator;
use super::wallets::VaultWallets;

impl Coordinator {
    /// Adds what signers need, tags, reviews with the signers' rules, checks
    /// the cold ratio, writes the PSBT, reserves its coins and logs it.
    pub(crate) fn complete_proposal(
        &self,
        wallets: &mut VaultWallets,
        from: Tier,
        mut psbt: Psbt,
        fee_rate: FeeRate,
        replaces: Option<Txid>,
        out: &Path,
    ) -> Result<Proposal, CoordinatorError> {
        let policy = self.policy();
        let before = VaultBalance::of(wallets, policy.rules().ratio());
        add_vault_output_origins(&mut psbt, self, wallets)?;
        set_policy_id(&mut psbt, policy.id()).expect("a new PSBT names no policy");

        let review = self.review(&psbt, &self.daily_spending()?)?;
        let failures: Vec<RuleCheck> = review
            .failures()
            .filter(|f| f.rule != RuleId::Approvals)
            .cloned()
            .collect();
        if !failures.is_empty() {
            return Err(Refusal::Rules(failures).into());
        }
        let movement = review.movement().ok_or(Refusal::NotOneMovement)?;
        let fee = Amount::from_sat(review.fee().map_or(0, |f| f.to_sat().max(0) as u64));
        let (cold_after, total_after) = after(&before, &review, fee);
        if movement == Movement::ColdToHot && !before.ratio.cold_share_ok(cold_after, total_after) {
            return Err(Refusal::ColdRatio {
                cold_after,
                total_after,
                min_percent: before.ratio.cold_min_percent(),
            }
            .into());
        }

        write_new_atomically(out, psbt.to_string().as_bytes())?;
        // Only now are the revealed addresses (destination, change) kept, and
        // the coins reserved so that the next proposal does not spend them too.
        let source = wallets.tier_mut(from).wallet_mut();
        for input in &psbt.unsigned_tx.input {
            source.lock_outpoint(input.previous_output);
        }
        for tier in Tier::ALL {
            wallets.tier_mut(tier).persist()?;
        }
        let rule = policy.rules().cold_to_hot();
        let needs_approvals = movement.needs_approvals();
        let proposal = Proposal {
            movement,
            txid: review.txid(),
            file: out.to_owned(),
            amount: review.moved(),
            fee,
            fee_rate_sat_vb: fee_rate.to_sat_per_kwu() as f64 / 250.0,
            vsize: review.vsize(),
            outputs: review
                .outputs()
                .iter()
                .map(|o| ProposedOutput {
                    address: o.address.clone(),
                    amount: o.amount,
                    role: match o.destination {
                        Destination::Vault { tier } if tier == from => "change".into(),
                        Destination::Vault { tier } => tier.to_string(),
                        Destination::Successor { tier } => format!("successor {tier}"),
                        Destination::External { .. } => "external".into(),
                    },
                })
                .collect(),
            cold_percent_after: percent(cold_after, total_after),
            approvals_needed: if needs_approvals {
                rule.min_approvals()
            } else {
                0
            },
            departments_needed: if needs_approvals {
                rule.min_departments()
            } else {
                0
            },
            note: None,
            replaces,
        };
        self.log(&Event::Proposal(Proposed {
            policy_id: self.policy().id(),
            movement,
            txid: proposal.txid,
            amount: proposal.amount,
            fee: proposal.fee,
            outputs: proposal.outputs.clone(),
            file: out.display().to_string(),
            replaces,
            recovery: review.recovery(),
        }))?;
        Ok(proposal)
    }
}

/// Adds the BIP-32 derivations (and scripts) of every output paying a
/// wallet of the vault: bdk adds them only for the spending wallet's own
/// outputs, and signers classify an output by re-deriving it from them.
fn add_vault_output_origins(
    psbt: &mut Psbt,
    c: &Coordinator,
    wallets: &VaultWallets,
) -> Result<(), CoordinatorError> {
    for i in 0..psbt.unsigned_tx.output.len() {
        let script = psbt.unsigned_tx.output[i].script_pubkey.clone();
        for tier in Tier::ALL {
            let Some((keychain, index)) = wallets
                .tier(tier)
                .wallet()
                .derivation_of_spk(script.clone())
            else {
                continue;
            };
            wallets.tier(tier).check_in_range(keychain, index)?;
            let chain = match keychain {
                KeychainKind::External => Chain::Receive,
                KeychainKind::Internal => Chain::Change,
            };
            let descriptor = c.policy().descriptor(tier).at(chain, index);
            psbt.update_output_with_descriptor(i, &descriptor)
                .map_err(|e| CoordinatorError::Build {
                    what: "proposal".into(),
                    reason: format!("cannot add the derivation of output {i} ({tier}): {e}"),
                })?;
        }
    }
    Ok(())
}

/// Cold holdings and vault total once the reviewed transaction confirms.
fn after(before: &VaultBalance, review: &Review, fee: Amount) -> (Amount, Amount) {
    let mut cold = before.cold.total().to_sat() as i128;
    let mut total = before.total().to_sat() as i128;
    if review.source() == Some(Tier::Cold) {
        cold -= review.moved().to_sat() as i128 + fee.to_sat() as i128;
    }
    for o in review.outputs() {
        match (o.destination, review.source()) {
            (Destination::Vault { tier: Tier::Cold }, Some(Tier::Hot)) => {
                cold += o.amount.to_sat() as i128
            }
            (Destination::External { .. } | Destination::Successor { .. }, _) => {
                total -= o.amount.to_sat() as i128
            }
            _ => {}
        }
    }
    total -= fee.to_sat() as i128;
    let clamp = |v: i128| Amount::from_sat(v.max(0) as u64);
    (clamp(cold), clamp(total))
}

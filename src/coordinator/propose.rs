//! Proposals: a cold→hot (or hot→cold) transfer, a batch of payouts from hot,
//! and a rebalance to the target ratio (consolidations and fee bumps live in
//! their own modules and end here too). Each is built by the source tier's
//! bdk wallet after a sync, given the BIP-32 derivations of every vault
//! output so that signers can re-derive it, tagged with the policy id, and
//! reviewed by the same code the signers run before it is written; its
//! coins are then reserved and the proposal logged.

use std::path::Path;

use bdk_wallet::descriptor::Condition;
use bdk_wallet::KeychainKind;
use bitcoin::{Amount, FeeRate, OutPoint, Psbt, ScriptBuf, Txid};
use miniscript::psbt::PsbtExt;

use crate::audit::{Event, Proposed};
use crate::policy::{Chain, FeeRateLimit, Tier};
use crate::psbt::{set_policy_id, Destination, Movement, Review, RuleCheck, RuleId};
use crate::transport::write_new_atomically;

use super::balance::{btc, percent, VaultBalance};
use super::error::{CoordinatorError, Refusal};
use super::node::Config;
use super::payout_csv::read_payouts;
use super::proposal::{Proposal, ProposedOutput};
use super::rebalance::rebalance_move;
use super::sync::sync;
use super::vault::Coordinator;
use super::wallets::VaultWallets;

/// Fee rate used when none is given and the node has no estimate (regtest).
pub const FALLBACK_SAT_PER_VB: u64 = 2;

/// Parses `"5 sat/vB"` or a bare number of sat/vB.
pub fn parse_fee_rate(text: &str) -> Result<FeeRate, CoordinatorError> {
    let t = text.trim();
    let with_unit = if t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        format!("{t} sat/vB")
    } else {
        t.to_owned()
    };
    let limit: FeeRateLimit = with_unit.parse().map_err(|e: crate::policy::UnitError| {
        CoordinatorError::BadArgument(format!("--fee-rate: {e}"))
    })?;
    Ok(FeeRate::from_sat_per_kwu(limit.sat_per_kvb() / 4))
}

/// What a proposal pays.
pub(crate) enum Spend {
    /// These amounts to these scripts; change goes back to the source wallet.
    Pay(Vec<(ScriptBuf, Amount)>),
    /// Exactly these coins, all of their value less the fee, to one script.
    Sweep {
        /// The destination.
        to: ScriptBuf,
        /// The coins.
        coins: Vec<OutPoint>,
    },
}

impl Coordinator {
    /// Brings the wallets up to the node's chain and mempool (a proposal
    /// built on stale coins would fail at broadcast, after everyone signed)
    /// and picks the fee rate: the one given, else the node's estimate.
    pub(crate) fn prepare_proposal(
        &self,
        fee_rate: Option<FeeRate>,
    ) -> Result<(VaultWallets, FeeRate), CoordinatorError> {
        let (node, health) = self.connect()?;
        if health.initial_block_download {
            return Err(CoordinatorError::NodeSyncing {
                url: health.url,
                blocks: health.blocks,
                headers: health.headers,
            });
        }
        let mut wallets = self.wallets()?;
        let start_height = Config::load(self.dir())?.sync.start_height;
        sync(
            self.dir(),
            &node,
            &mut wallets,
            start_height,
            self.progress(),
        )?;
        let fee_rate = fee_rate.unwrap_or_else(|| {
            node.estimate_sat_per_vb(6)
                .map(|r| FeeRate::from_sat_per_kwu((r * 250.0).ceil() as u64))
                .unwrap_or(FeeRate::from_sat_per_kwu(FALLBACK_SAT_PER_VB * 250))
        });
        Ok((wallets, fee_rate))
    }

    /// `propose transfer`: moves `amount` from one tier to a fresh receive
    /// address of the other.
    pub fn propose_transfer(
        &self,
        from: Tier,
        to: Tier,
        amount: Amount,
        fee_rate: Option<FeeRate>,
        out: &Path,
    ) -> Result<Proposal, CoordinatorError> {
        if from == to {
            return Err(CoordinatorError::BadArgument(format!(
                "--from and --to are both {from}; a transfer goes from one tier to the other"
            )));
        }
        let (mut wallets, fee_rate) = self.prepare_proposal(fee_rate)?;
        self.transfer_with(&mut wallets, from, to, amount, fee_rate, out)
    }

    fn transfer_with(
        &self,
        wallets: &mut VaultWallets,
        from: Tier,
        to: Tier,
        amount: Amount,
        fee_rate: FeeRate,
        out: &Path,
    ) -> Result<Proposal, CoordinatorError> {
        let dest = wallets
            .tier_mut(to)
            .reveal_next_in_range(KeychainKind::External)?;
        let spend = Spend::Pay(vec![(dest.address.script_pubkey(), amount)]);
        self.propose(wallets, from, spend, fee_rate, out)
    }

    /// `propose payout`: pays the rows of a CSV file from hot.
    pub fn propose_payout(
        &self,
        csv: &Path,
        fee_rate: Option<FeeRate>,
        out: &Path,
    ) -> Result<Proposal, CoordinatorError> {
        let payouts = read_payouts(csv, self.policy().network())?;
        let (mut wallets, fee_rate) = self.prepare_proposal(fee_rate)?;
        let spend = Spend::Pay(
            payouts
                .iter()
                .map(|p| (p.address.script_pubkey(), p.amount))
                .collect(),
        );
        self.propose(&mut wallets, Tier::Hot, spend, fee_rate, out)
    }

    /// `propose rebalance`: the transfer that brings the hot share back to
    /// its target, or `None` when the vault is within 1 % of it.
    pub fn propose_rebalance(
        &self,
        fee_rate: Option<FeeRate>,
        out: &Path,
    ) -> Result<Option<Proposal>, CoordinatorError> {
        let (mut wallets, fee_rate) = self.prepare_proposal(fee_rate)?;
        let balance = VaultBalance::of(&wallets, self.policy().rules().ratio());
        match rebalance_move(&balance) {
            None => Ok(None),
            Some((from, wanted)) => {
                let cap = self.policy().rules().cold_to_hot().max_amount();
                let amount = if from == Tier::Cold {
                    wanted.min(cap)
                } else {
                    wanted
                };
                let mut proposal =
                    self.transfer_with(&mut wallets, from, from.other(), amount, fee_rate, out)?;
                if amount < wanted {
                    proposal.note = Some(format!(
                        "the target needs {} moved, capped at the rule's maximum of {} per transfer; propose another rebalance once this one confirms",
                        btc(wanted),
                        btc(cap)
                    ));
                }
                Ok(Some(proposal))
            }
        }
    }

    pub(crate) fn propose(
        &self,
        wallets: &mut VaultWallets,
        from: Tier,
        spend: Spend,
        fee_rate: FeeRate,
        out: &Path,
    ) -> Result<Proposal, CoordinatorError> {
        let psbt = {
            let wallet = wallets.tier_mut(from).wallet_mut();
            let reserved = wallet.list_locked_unspent().count();
            let hint = if reserved > 0 {
                format!(
                    "; {reserved} coin(s) of the {from} wallet are reserved by pending proposals (`utxos` shows them; `abandon FILE` releases a proposal's coins)"
                )
            } else {
                String::new()
            };
            let mut builder = wallet.build_tx();
            // The main multisig path: no timelock, so a recovery path (or the
            // taproot key path, whose key nobody holds) is never chosen.
            builder
                .fee_rate(fee_rate)
                .set_condition(Condition::default());
            match spend {
                Spend::Pay(recipients) => {
                    builder.set_recipients(recipients);
                }
                Spend::Sweep { to, coins } => {
                    builder
                        .add_utxos(&coins)
                        .map_err(|e| CoordinatorError::Build {
                            what: format!("{from} wallet transaction"),
                            reason: e.to_string(),
                        })?
                        .manually_selected_only()
                        .drain_to(to);
                }
            }
            builder.finish().map_err(|e| CoordinatorError::Build {
                what: format!("{from} wallet transaction"),
                reason: format!("{e}; run `sync` and check `balance`{hint}"),
            })?
        };
        self.complete_proposal(wallets, from, psbt, fee_rate, None, out)
    }

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

        let review = Review::of(policy, &psbt, &self.daily_spending()?);
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
            (Destination::External { .. }, _) => total -= o.amount.to_sat() as i128,
            _ => {}
        }
    }
    total -= fee.to_sat() as i128;
    let clamp = |v: i128| Amount::from_sat(v.max(0) as u64);
    (clamp(cold), clamp(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_rates_parse_with_or_without_unit() {
        assert_eq!(parse_fee_rate("5").unwrap().to_sat_per_vb_ceil(), 5);
        assert_eq!(parse_fee_rate("2.5 sat/vB").unwrap().to_sat_per_kwu(), 625);
        assert!(parse_fee_rate("fast").is_err());
    }
}

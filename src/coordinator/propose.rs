//! Proposals: a cold→hot (or hot→cold) transfer, a batch of payouts from hot,
//! and a rebalance to the target ratio (consolidations and fee bumps live in
//! their own modules and end here too). Each is built by the source tier's
//! bdk wallet after a sync, given the BIP-32 derivations of every vault
//! output so that signers can re-derive it, tagged with the policy id, and
//! reviewed by the same code the signers run before it is written (see
//! [`super::complete`]).

use std::path::Path;

use bdk_wallet::descriptor::Condition;
use bdk_wallet::KeychainKind;
use bitcoin::{Amount, FeeRate, OutPoint, ScriptBuf};

use crate::policy::{FeeRateLimit, Tier};
use crate::transport::FileError;

use super::balance::{btc, VaultBalance};
use super::chain::ChainSource;
use super::error::CoordinatorError;
use super::node_chain::NodeOnDemand;
use super::payout_csv::read_payouts;
use super::proposal::Proposal;
use super::rebalance::rebalance_move;
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
    /// Brings the wallets up to the chain and mempool (a proposal built on
    /// stale coins would fail at broadcast, after everyone signed) and picks
    /// the fee rate: the one given, else the chain's estimate.
    /// An output file `out` that exists is refused first.
    pub(crate) fn prepare_proposal(
        &self,
        chain: &dyn ChainSource,
        fee_rate: Option<FeeRate>,
        out: &Path,
    ) -> Result<(VaultWallets, FeeRate), CoordinatorError> {
        // Refused before the wallets sync and the transaction is built (the
        // write at the end refuses it again, atomically).
        if out.exists() {
            return Err(FileError::Exists(out.to_owned()).into());
        }
        let health = chain.health()?;
        if health.initial_block_download {
            return Err(CoordinatorError::NodeSyncing {
                url: health.url,
                blocks: health.blocks,
                headers: health.headers,
            });
        }
        let (wallets, _) = self.synced_wallets(chain)?;
        let fee_rate = fee_rate.unwrap_or_else(|| {
            chain
                .estimate_sat_per_vb(6)
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
        self.propose_transfer_on(&NodeOnDemand::new(self), from, to, amount, fee_rate, out)
    }

    /// [`Coordinator::propose_transfer`] on `chain`.
    pub(crate) fn propose_transfer_on(
        &self,
        chain: &dyn ChainSource,
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
        let (mut wallets, fee_rate) = self.prepare_proposal(chain, fee_rate, out)?;
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
        self.propose_payout_on(&NodeOnDemand::new(self), csv, fee_rate, out)
    }

    /// [`Coordinator::propose_payout`] on `chain`.
    pub(crate) fn propose_payout_on(
        &self,
        chain: &dyn ChainSource,
        csv: &Path,
        fee_rate: Option<FeeRate>,
        out: &Path,
    ) -> Result<Proposal, CoordinatorError> {
        let payouts = read_payouts(csv, self.policy().network())?;
        let (mut wallets, fee_rate) = self.prepare_proposal(chain, fee_rate, out)?;
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
        self.propose_rebalance_on(&NodeOnDemand::new(self), fee_rate, out)
    }

    /// [`Coordinator::propose_rebalance`] on `chain`.
    pub(crate) fn propose_rebalance_on(
        &self,
        chain: &dyn ChainSource,
        fee_rate: Option<FeeRate>,
        out: &Path,
    ) -> Result<Option<Proposal>, CoordinatorError> {
        let (mut wallets, fee_rate) = self.prepare_proposal(chain, fee_rate, out)?;
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
        let psbt = build_spend(wallets, from, spend, fee_rate)?;
        self.complete_proposal(wallets, from, psbt, fee_rate, None, out)
    }
}

/// Builds the transaction of `spend` with the `from` tier's wallet.
pub(crate) fn build_spend(
    wallets: &mut VaultWallets,
    from: Tier,
    spend: Spend,
    fee_rate: FeeRate,
) -> Result<bitcoin::Psbt, CoordinatorError> {
    let wallet = wallets.tier_mut(from).wallet_mut();
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
    let built = builder.finish();
    built.map_err(|e| {
        // Counted only for the message: listing the coins is a pass over
        // every transaction of the wallet.
        let reserved = wallet.list_locked_unspent().count();
        let hint = if reserved > 0 {
            format!(
                "; {reserved} coin(s) of the {from} wallet are reserved by pending proposals (`utxos` shows them; `abandon FILE` releases a proposal's coins)"
            )
        } else {
            String::new()
        };
        CoordinatorError::Build {
            what: format!("{from} wallet transaction"),
            reason: format!("{e}; run `sync` and check `balance`{hint}"),
        }
    })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod coin_tests;

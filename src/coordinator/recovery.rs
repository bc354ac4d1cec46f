//! `propose recovery`: when a tier's normal quorum is lost, its coins move
//! to the same tier of the vault's successor policy through the wallet's
//! timelocked recovery path. Every input waits exactly the path's
//! `after_blocks` (nSequence, BIP-68), recovery keys sign on their chains 2
//! and 3 (ADR 3), and signers sign it only as a migration to the successor
//! they registered. The PSBT can be made and signed before the timelock has
//! passed; the node accepts it from the height the proposal names on.

use std::path::Path;

use bdk_wallet::KeychainKind;
use bitcoin::{absolute, transaction, Amount, Psbt, Sequence, Transaction, TxIn, TxOut};
use miniscript::psbt::PsbtExt;

use crate::policy::Chain;

use super::chain::ChainSource;
use super::error::CoordinatorError;
use super::migrate::SuccessorMove;
use super::node_chain::NodeOnDemand;
use super::proposal::Proposal;
use super::vault::Coordinator;

impl Coordinator {
    /// `propose recovery`: up to `max_inputs` of the tier's confirmed coins
    /// (largest first) through its recovery path to a fresh receive address
    /// of the successor's same tier; the note says from which height the
    /// node accepts it.
    pub fn propose_recovery(
        &self,
        m: &SuccessorMove,
        out: &Path,
    ) -> Result<Option<Proposal>, CoordinatorError> {
        self.propose_recovery_on(&NodeOnDemand::new(self), m, out)
    }

    /// [`Coordinator::propose_recovery`] on `chain`.
    pub(crate) fn propose_recovery_on(
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
        let old = self.policy();
        let path = old.wallet(tier).recovery().ok_or_else(|| {
            CoordinatorError::BadArgument(format!(
                "the {tier} wallet of this policy has no recovery path"
            ))
        })?;
        let after = u32::from(path.after_blocks());
        let to = self.successor_address(chain, tier, next, update.as_ref())?;
        let (mut wallets, fee_rate) = self.prepare_proposal(chain, fee_rate, out)?;
        let wallet = wallets.tier(tier).wallet();
        let tip = wallet.latest_checkpoint().height();
        // Coins reserved by proposals the lost quorum cannot sign move too.
        let mut coins: Vec<_> = wallet
            .list_unspent()
            .filter(|o| o.chain_position.is_confirmed())
            .collect();
        coins.sort_by_key(|o| std::cmp::Reverse(o.txout.value));
        coins.truncate(max_inputs.unwrap_or(super::DEFAULT_MIGRATION_INPUTS));
        if coins.is_empty() {
            return Ok(None);
        }
        // BIP-68: a coin confirmed at height h may be spent in a block at
        // h + after; the node accepts the transaction once its tip is one
        // below that.
        let ready_at = coins
            .iter()
            .filter_map(|o| o.chain_position.confirmation_height_upper_bound())
            .map(|h| h + after - 1)
            .max()
            .unwrap_or(tip);
        let mut inputs = Vec::new();
        let mut satisfaction = bitcoin::Weight::ZERO;
        let mut total = Amount::ZERO;
        for coin in &coins {
            let (keychain, index) = wallet
                .derivation_of_spk(coin.txout.script_pubkey.clone())
                .expect("the wallet's own coin");
            let chain_of = match keychain {
                KeychainKind::External => Chain::Receive,
                KeychainKind::Internal => Chain::Change,
            };
            satisfaction += old
                .descriptor(tier)
                .at(chain_of, index)
                .max_weight_to_satisfy()
                .map_err(|e| CoordinatorError::Build {
                    what: "recovery".into(),
                    reason: e.to_string(),
                })?;
            total += coin.txout.value;
            let input = wallet
                .get_psbt_input(coin.clone(), None, false)
                .map_err(|e| CoordinatorError::Build {
                    what: "recovery".into(),
                    reason: format!("cannot fill the input spending {}: {e}", coin.outpoint),
                })?;
            inputs.push((coin.outpoint, input));
        }
        let mut tx = Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::ZERO,
            input: inputs
                .iter()
                .map(|(outpoint, _)| TxIn {
                    previous_output: *outpoint,
                    sequence: Sequence::from_height(path.after_blocks()),
                    ..TxIn::default()
                })
                .collect(),
            output: vec![TxOut {
                value: total,
                script_pubkey: to.script_pubkey(),
            }],
        };
        let weight = tx.weight() + bitcoin::Weight::from_wu(2) + satisfaction;
        let fee = fee_rate
            .fee_wu(weight)
            .ok_or_else(|| CoordinatorError::Build {
                what: "recovery".into(),
                reason: "the fee overflows".into(),
            })?;
        tx.output[0].value = total
            .checked_sub(fee)
            .ok_or_else(|| CoordinatorError::Build {
                what: "recovery".into(),
                reason: format!("the coins hold {total}, less than the fee {fee}"),
            })?;
        let mut psbt = Psbt::from_unsigned_tx(tx).expect("an unsigned transaction");
        for (slot, (_, input)) in psbt.inputs.iter_mut().zip(inputs) {
            *slot = input;
        }
        psbt.update_output_with_descriptor(0, &to)
            .map_err(|e| CoordinatorError::Build {
                what: "recovery".into(),
                reason: format!("cannot add the successor's derivation: {e}"),
            })?;
        let mut proposal = self.complete_proposal(&mut wallets, tier, psbt, fee_rate, None, out)?;
        proposal.note = Some(match ready_at > tip {
            true => format!(
                "recovery path: the node accepts it from height {ready_at} on, {} block(s) from now (the {tier} timelock of {after} blocks); signatures can be collected meanwhile",
                ready_at - tip
            ),
            false => format!("recovery path: the {tier} timelock of {after} blocks has passed for every coin"),
        });
        Ok(Some(proposal))
    }
}

#[cfg(test)]
mod tests {
    use crate::coordinator::migrate::tests::moving;
    use crate::coordinator::test_vault::{TestVault, BTC};
    use crate::policy::Tier;

    #[test]
    fn a_wallet_without_a_recovery_path_is_refused() {
        let v = TestVault::new();
        v.fund(Tier::Cold, BTC);
        let next = crate::policy::VaultPolicy::from_toml(
            &v.coordinator
                .policy()
                .to_toml()
                .replacen("threshold = 3", "threshold = 2", 1),
        )
        .unwrap();
        let out = v.file("r.psbt");
        let err = v
            .coordinator
            .propose_recovery_on(&v.chain, &moving(Tier::Cold, &next), &out)
            .unwrap_err();
        assert!(err.to_string().contains("no recovery path"), "{err}");
        assert!(!out.exists());
    }
}

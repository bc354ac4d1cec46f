//! Broadcasting a finalized transaction, and abandoning a proposal that
//! will not be: the two ends of a proposal's life.

use std::path::Path;

use bitcoin::consensus::encode::deserialize_hex;
use bitcoin::{Transaction, Txid};

use crate::audit::{self, Abandoned, Event};

/// Bitcoin Core's reject reasons for a transaction it already holds.
const ALREADY_IN_MEMPOOL: [&str; 3] = [
    "txn-already-in-mempool",
    "txn-already-known",
    "txn-same-nonwitness-data-in-mempool",
];

use super::chain::ChainSource;
use super::error::CoordinatorError;
use super::node_chain::NodeOnDemand;
use super::vault::Coordinator;

impl Coordinator {
    /// `broadcast`: a raw transaction (hex) or a finalized PSBT.
    pub fn broadcast(&self, path: &Path) -> Result<Txid, CoordinatorError> {
        self.broadcast_on(&NodeOnDemand::new(self), path)
    }

    /// [`Coordinator::broadcast`] to `chain`. A transaction the node already
    /// holds in its mempool counts as broadcast.
    pub(crate) fn broadcast_on(
        &self,
        chain: &dyn ChainSource,
        path: &Path,
    ) -> Result<Txid, CoordinatorError> {
        let tx = self.read_transaction(path)?;
        // The node before the log: with the node down, that is the error
        // to report, whatever the log holds.
        chain.health()?;
        let proposal = self.proposal(tx.compute_txid())?;
        let txid = match chain.broadcast(&tx) {
            Ok(txid) => txid,
            // Sent before, by a run stopped before its log entry or by
            // anyone else: log it once and report success, so that running
            // `broadcast` again is how a stopped broadcast is finished.
            Err(CoordinatorError::Rejected { txid, reason })
                if ALREADY_IN_MEMPOOL.contains(&reason.as_str()) =>
            {
                let logged = self
                    .log_events()?
                    .into_iter()
                    .any(|(_, e)| matches!(e, Event::Broadcast(b) if b.txid == txid));
                if logged {
                    return Ok(txid);
                }
                txid
            }
            Err(e) => return Err(e),
        };
        self.log(&Event::Broadcast(audit::Broadcast {
            policy_id: self.policy().id(),
            txid,
            movement: proposal.as_ref().map(|p| p.movement),
            amount: proposal.as_ref().map(|p| p.amount),
            fee: proposal.as_ref().map(|p| p.fee),
            proposed: proposal.is_some(),
        }))?;
        Ok(txid)
    }

    /// `abandon`: releases the coins a proposal reserved, so that new
    /// proposals may spend them. Copies of the abandoned PSBT must not be
    /// signed any more; if one is broadcast anyway, the later proposal that
    /// spends the same coins is the one that fails.
    pub fn abandon(&self, path: &Path) -> Result<(Txid, usize), CoordinatorError> {
        let psbt = self.read_psbt(path)?;
        let txid = psbt.unsigned_tx.compute_txid();
        let mut wallets = self.wallets()?;
        let mut released = 0;
        for tier in crate::policy::Tier::ALL {
            let tw = wallets.tier_mut(tier);
            for input in &psbt.unsigned_tx.input {
                if tw.wallet().is_outpoint_locked(input.previous_output) {
                    tw.wallet_mut().unlock_outpoint(input.previous_output);
                    released += 1;
                }
            }
            tw.persist()?;
        }
        self.log(&Event::Abandon(Abandoned {
            policy_id: self.policy().id(),
            txid,
            released,
        }))?;
        Ok((txid, released))
    }

    fn read_transaction(&self, path: &Path) -> Result<Transaction, CoordinatorError> {
        let data = std::fs::read(path)
            .map_err(|e| CoordinatorError::bad_file(path, format!("cannot read: {e}")))?;
        let text = String::from_utf8_lossy(&data);
        if let Ok(tx) = deserialize_hex::<Transaction>(text.trim()) {
            return Ok(tx);
        }
        let psbt = self.read_psbt(path)?;
        if psbt
            .inputs
            .iter()
            .any(|i| i.final_script_witness.is_none() && i.final_script_sig.is_none())
        {
            return Err(CoordinatorError::NotReady(format!(
                "{} is not finalized; run `custodia-coordinator finalize` first",
                path.display()
            )));
        }
        psbt.extract_tx().map_err(|e| {
            CoordinatorError::bad_file(path, format!("cannot extract the transaction: {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use bitcoin::consensus::encode::serialize_hex;
    use bitcoin::Amount;

    use crate::audit::{Broadcast, Event};
    use crate::coordinator::test_vault::{TestVault, BTC};
    use crate::coordinator::CoordinatorError;
    use crate::policy::Tier;
    use crate::psbt::Movement;

    fn broadcasts_logged(v: &TestVault) -> Vec<Broadcast> {
        v.coordinator
            .log_entries()
            .unwrap()
            .iter()
            .filter_map(|e| match e.event().unwrap() {
                Some(Event::Broadcast(b)) => Some(b),
                _ => None,
            })
            .collect()
    }

    // The chain in memory does not check scripts, so the proposal's
    // unsigned transaction stands in for the signed one.
    #[test]
    fn a_rejected_broadcast_is_typed_and_logs_nothing_and_an_accepted_one_confirms() {
        let v = TestVault::new();
        let coin = v.fund(Tier::Cold, 10 * BTC);
        let p = v.transfer(Tier::Cold, BTC, "transfer.psbt").unwrap();
        let tx = v.read_psbt(&p.file).unsigned_tx;
        let raw = v.file("transfer.hex");
        std::fs::write(&raw, serialize_hex(&tx)).unwrap();

        v.chain.reject_broadcasts(Some("min relay fee not met"));
        let err = v.coordinator.broadcast_on(&v.chain, &raw).unwrap_err();
        match err {
            CoordinatorError::Rejected { txid, reason } => {
                assert_eq!(txid, p.txid);
                assert_eq!(reason, "min relay fee not met");
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        assert!(v.chain.broadcasts().is_empty());
        assert!(broadcasts_logged(&v).is_empty());

        v.chain.reject_broadcasts(None);
        assert_eq!(v.coordinator.broadcast_on(&v.chain, &raw).unwrap(), p.txid);
        assert_eq!(v.chain.broadcasts(), vec![tx.clone()]);
        let logged = broadcasts_logged(&v);
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].txid, p.txid);
        assert!(logged[0].proposed);
        assert_eq!(logged[0].movement, Some(Movement::ColdToHot));
        assert_eq!(logged[0].amount, Some(Amount::from_sat(BTC)));
        assert_eq!(logged[0].fee, Some(p.fee));

        // The same coin again is what a node refuses as spent.
        let mut again = tx.clone();
        again.output[0].value -= Amount::from_sat(1_000);
        assert_eq!(again.input[0].previous_output, coin);
        std::fs::write(&raw, serialize_hex(&again)).unwrap();
        match v.coordinator.broadcast_on(&v.chain, &raw).unwrap_err() {
            CoordinatorError::Rejected { txid, reason } => {
                assert_eq!(txid, again.compute_txid());
                assert_eq!(reason, "bad-txns-inputs-missingorspent");
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        assert_eq!(broadcasts_logged(&v).len(), 1);

        // Mined, the transfer moves the funds between the tiers.
        v.chain.mine_mempool();
        v.coordinator.sync_from(&v.chain).unwrap();
        let balance = v.coordinator.balance().unwrap();
        assert_eq!(balance.hot.confirmed, Amount::from_sat(BTC));
        assert_eq!(
            balance.cold.confirmed,
            Amount::from_sat(9 * BTC - p.fee.to_sat())
        );
    }
}

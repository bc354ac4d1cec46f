//! Cross-checking logs: every signature a key holder logged must belong to a
//! transaction the coordinator proposed under the same policy. A signature
//! for anything else means the key signed a PSBT that did not come through
//! the coordinator.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use bitcoin::Txid;
use serde::Serialize;

use super::event::Event;
use super::heads::NamedLog;
use super::log::LogError;
use crate::error::{Classify, ExitCode};
use crate::policy::PolicyId;

/// A signature a signer logged that no coordinator log given proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnproposedSignature {
    /// The signer's log file.
    pub signer_log: PathBuf,
    /// The log entry.
    pub seq: u64,
    /// The transaction signed.
    pub txid: Txid,
    /// The policy it was signed under.
    pub policy_id: PolicyId,
}

/// What the signature cross-check found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SignatureCheck {
    /// Whether a coordinator log was among the logs (without one, nothing is
    /// checked).
    pub coordinator_log_given: bool,
    /// Signatures checked.
    pub checked: usize,
    /// Signatures not checked, for want of a coordinator log.
    pub unchecked: usize,
    /// Signatures of transactions no coordinator log proposed under that
    /// policy: each is a finding.
    pub unproposed: Vec<UnproposedSignature>,
}

/// Signatures of transactions the coordinator never proposed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} signature(s) in signer logs are of transactions the coordinator's log never proposed under that policy: the key signed a PSBT that did not come through the coordinator", .0.len())]
pub struct UnproposedSignaturesFinding(pub Vec<UnproposedSignature>);

impl Classify for UnproposedSignaturesFinding {
    fn exit_code(&self) -> ExitCode {
        ExitCode::Refused
    }
}

impl SignatureCheck {
    /// Checks every `sign` entry of any of `logs` against the proposals of
    /// the coordinator logs among them.
    pub fn of(logs: &[NamedLog]) -> Result<SignatureCheck, LogError> {
        let mut proposed: BTreeSet<(PolicyId, Txid)> = BTreeSet::new();
        let mut signed = Vec::new();
        let mut out = SignatureCheck::default();
        for l in logs {
            for e in &l.log.entries {
                match e.event()? {
                    Some(Event::Policy(_)) => out.coordinator_log_given = true,
                    Some(Event::Proposal(p)) => {
                        out.coordinator_log_given = true;
                        proposed.insert((p.policy_id, p.txid));
                    }
                    Some(Event::Sign(s)) => signed.push(UnproposedSignature {
                        signer_log: l.path.clone(),
                        seq: e.seq,
                        txid: s.txid,
                        policy_id: s.policy_id,
                    }),
                    _ => {}
                }
            }
        }
        if !out.coordinator_log_given {
            // Nothing to check against; say how many went unchecked.
            out.checked = 0;
            out.unproposed.clear();
            out.unchecked = signed.len();
            return Ok(out);
        }
        out.checked = signed.len();
        out.unproposed = signed
            .into_iter()
            .filter(|s| !proposed.contains(&(s.policy_id, s.txid)))
            .collect();
        Ok(out)
    }

    /// The finding, if any signature was not proposed.
    pub fn finding(&self) -> Option<UnproposedSignaturesFinding> {
        (!self.unproposed.is_empty()).then(|| UnproposedSignaturesFinding(self.unproposed.clone()))
    }

    /// Lines for people.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        if !self.coordinator_log_given {
            if self.unchecked > 0 {
                let _ = writeln!(
                    s,
                    "signatures: {} not checked; give the coordinator's log too",
                    self.unchecked
                );
            }
            return s;
        }
        let _ = writeln!(
            s,
            "signatures: {} checked against the coordinator's proposals, {} not proposed",
            self.checked,
            self.unproposed.len()
        );
        for u in &self.unproposed {
            let _ = writeln!(
                s,
                "  FINDING: {} entry {} signed {} (policy {}), which the coordinator never proposed",
                u.signer_log.display(),
                u.seq,
                u.txid,
                u.policy_id
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use bitcoin::hashes::Hash;
    use bitcoin::Amount;

    use super::*;
    use crate::audit::{EventLog, Proposed, Signed};
    use crate::policy::rules::Movement;

    fn named(dir: &std::path::Path, name: &str, events: &[Event]) -> NamedLog {
        let path = dir.join(name);
        let log = EventLog::new(&path);
        for e in events {
            log.append(e).unwrap();
        }
        NamedLog {
            log: log.verify().unwrap(),
            path,
        }
    }

    fn signed(policy_id: PolicyId, txid: Txid) -> Event {
        Event::Sign(Signed {
            signer: None,
            policy_id,
            vault: "exchange".into(),
            txid,
            movement: Some(Movement::ColdToHot),
            amount: Amount::from_sat(1),
            fee: None,
            inputs_signed: 1,
            keys: vec![],
            lock_time: 0,
            replaced_signatures: vec![],
            online_interfaces: vec![],
        })
    }

    #[test]
    fn signatures_must_be_of_proposals_of_the_same_policy() {
        let dir = tempfile::tempdir().unwrap();
        let policy = crate::policy::example("regtest-exchange").id();
        let other = crate::policy::example("regtest-taproot").id();
        let (a, b) = (
            Txid::from_byte_array([1; 32]),
            Txid::from_byte_array([2; 32]),
        );
        let coordinator = named(
            dir.path(),
            "events.jsonl",
            &[Event::Proposal(Proposed {
                policy_id: policy,
                movement: Movement::ColdToHot,
                txid: a,
                amount: Amount::from_sat(1),
                fee: Amount::from_sat(1),
                outputs: vec![],
                file: "a.psbt".into(),
                replaces: None,
                recovery: false,
            })],
        );
        let signer = named(
            dir.path(),
            "log.jsonl",
            &[signed(policy, a), signed(policy, b), signed(other, a)],
        );

        // Without the coordinator's log nothing can be checked.
        let alone = SignatureCheck::of(std::slice::from_ref(&signer)).unwrap();
        assert_eq!((alone.checked, alone.unchecked), (0, 3));
        assert!(alone.finding().is_none());

        let check = SignatureCheck::of(&[coordinator, signer]).unwrap();
        assert_eq!(check.checked, 3);
        let found: Vec<(u64, Txid, PolicyId)> = check
            .unproposed
            .iter()
            .map(|u| (u.seq, u.txid, u.policy_id))
            .collect();
        assert_eq!(found, vec![(2, b, policy), (3, a, other)]);
        assert!(check.finding().is_some());
    }
}

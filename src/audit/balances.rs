//! Independent balances: what the chain says each tier holds, found by
//! scanning the UTXO set for the policy's own descriptors — never from the
//! coordinator's database.

use std::collections::HashMap;

use bitcoin::{Amount, ScriptBuf};
use serde::Serialize;

use crate::policy::{format_amount, Chain, PolicyId, Tier, VaultPolicy};

/// One unspent output found by a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedOutput {
    /// The script it pays.
    pub script_pubkey: ScriptBuf,
    /// Its value.
    pub amount: Amount,
    /// Block height it was confirmed at.
    pub height: u64,
}

/// Something that can scan the UTXO set: Bitcoin Core's `scantxoutset` in
/// production; a fixed set in unit tests.
pub trait UtxoScanner {
    /// The error of the scanner.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Unspent outputs paying any of the ranged `descriptors` at indexes
    /// `0..=last_index`, and the tip height of the scan.
    fn scan(
        &self,
        descriptors: &[String],
        last_index: u32,
    ) -> Result<(Vec<ScannedOutput>, u64), Self::Error>;
}

/// One tier's holdings.
#[derive(Debug, Clone, Serialize)]
pub struct TierBalance {
    /// `cold` or `hot`.
    pub tier: Tier,
    /// Sum (`sat` in JSON, in satoshis).
    #[serde(rename = "sat", with = "bitcoin::amount::serde::as_sat")]
    pub balance: Amount,
    /// Sum, for people.
    pub amount: String,
    /// Number of unspent outputs.
    pub outputs: usize,
}

/// An audit finding: the cold share is below the policy minimum.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("audit finding: the cold share is {cold_percent:.2}%, below the policy minimum of {cold_min_percent}%; move funds back to cold storage (`custodia-coordinator propose rebalance`)")]
pub struct RatioFinding {
    /// The cold share found.
    pub cold_percent: f64,
    /// The policy minimum.
    pub cold_min_percent: u8,
}

impl crate::error::Classify for RatioFinding {
    fn exit_code(&self) -> crate::error::ExitCode {
        crate::error::ExitCode::Refused
    }
}

/// The auditor's balance report.
#[derive(Debug, Clone, Serialize)]
pub struct BalanceReport {
    /// Policy id.
    pub policy_id: PolicyId,
    /// Vault name.
    pub vault: String,
    /// Tip height the scan saw.
    pub height: u64,
    /// Highest derivation index scanned on each chain.
    pub last_index: u32,
    /// Cold, then hot.
    pub tiers: Vec<TierBalance>,
    /// Cold plus hot (`total_sat` in JSON).
    #[serde(rename = "total_sat", with = "bitcoin::amount::serde::as_sat")]
    pub total: Amount,
    /// Cold share in percent, with two decimals (100 for an empty vault).
    pub cold_percent: f64,
    /// The policy minimum.
    pub cold_min_percent: u8,
    /// Whether the cold share meets the minimum.
    pub ratio_ok: bool,
}

impl BalanceReport {
    /// The finding this report makes, if any (exit code 1).
    pub fn finding(&self) -> Option<RatioFinding> {
        (!self.ratio_ok).then_some(RatioFinding {
            cold_percent: self.cold_percent,
            cold_min_percent: self.cold_min_percent,
        })
    }

    /// The report for people.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "vault {} (policy {}) at height {}, indexes 0..={} scanned\n",
            self.vault, self.policy_id, self.height, self.last_index
        );
        for t in &self.tiers {
            s += &format!(
                "  {:<5} {:>20}  in {} outputs\n",
                t.tier, t.amount, t.outputs
            );
        }
        s += &format!("  total {:>20}\n", format_amount(self.total));
        s += &format!(
            "  cold ratio {:.2}% (minimum {}%): {}\n",
            self.cold_percent,
            self.cold_min_percent,
            if self.ratio_ok {
                "OK"
            } else {
                "FINDING: below the minimum"
            }
        );
        s
    }
}

/// Scans the chain for every receive and change address of both tiers up to
/// the policy's `max_index` and reports balances and the cold ratio. The
/// range is the policy's, not the caller's: it is the range signers pay to
/// and spend from, so a shorter scan could miss vault funds.
pub fn audit_balances<S: UtxoScanner>(
    policy: &VaultPolicy,
    scanner: &S,
) -> Result<BalanceReport, S::Error> {
    let last_index = policy.rules().addresses().max_index();
    let mut descriptors = Vec::new();
    // Outputs are attributed by re-deriving every script we asked for, not by
    // trusting what the scanner says matched.
    let mut tier_of: HashMap<ScriptBuf, Tier> = HashMap::new();
    for tier in Tier::ALL {
        let d = policy.descriptor(tier);
        for chain in [Chain::Receive, Chain::Change] {
            descriptors.push(d.chain(chain).to_string());
            for script in d.script_pubkeys(chain, 0..last_index + 1) {
                tier_of.insert(script, tier);
            }
        }
    }
    let (outputs, height) = scanner.scan(&descriptors, last_index)?;
    let tiers: Vec<TierBalance> = Tier::ALL
        .iter()
        .map(|&tier| {
            let mine: Vec<&ScannedOutput> = outputs
                .iter()
                .filter(|o| tier_of.get(&o.script_pubkey) == Some(&tier))
                .collect();
            let sum: Amount = mine.iter().map(|o| o.amount).sum();
            TierBalance {
                tier,
                balance: sum,
                amount: format_amount(sum),
                outputs: mine.len(),
            }
        })
        .collect();
    let cold = tiers[0].balance;
    let total: Amount = tiers.iter().map(|t| t.balance).sum();
    let ratio = policy.rules().ratio();
    let cold_percent = if total == Amount::ZERO {
        100.0
    } else {
        (cold.to_sat() as f64 * 10_000.0 / total.to_sat() as f64).round() / 100.0
    };
    Ok(BalanceReport {
        policy_id: policy.id(),
        vault: policy.name().to_owned(),
        height,
        last_index,
        tiers,
        total,
        cold_percent,
        cold_min_percent: ratio.cold_min_percent(),
        ratio_ok: ratio.cold_share_ok(cold, total),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Vec<ScannedOutput>);

    impl UtxoScanner for Fixed {
        type Error = std::io::Error;
        fn scan(
            &self,
            d: &[String],
            last: u32,
        ) -> Result<(Vec<ScannedOutput>, u64), std::io::Error> {
            assert_eq!(last, policy().rules().addresses().max_index());
            assert_eq!(d.len(), 4, "receive and change of both tiers");
            assert!(d[0].contains("/0/*") && d[1].contains("/1/*"));
            Ok((self.0.clone(), 200))
        }
    }

    fn out(which: usize, btc: u64) -> ScannedOutput {
        let p = policy();
        let (tier, chain) = [
            (Tier::Cold, Chain::Receive),
            (Tier::Cold, Chain::Change),
            (Tier::Hot, Chain::Receive),
            (Tier::Hot, Chain::Change),
        ][which];
        ScannedOutput {
            script_pubkey: p.descriptor(tier).script_pubkey(chain, 7),
            amount: Amount::from_int_btc(btc),
            height: 1,
        }
    }

    fn policy() -> VaultPolicy {
        crate::policy::example("regtest-exchange")
    }

    #[test]
    fn sums_per_tier_and_flags_a_low_cold_ratio() {
        let ok = audit_balances(&policy(), &Fixed(vec![out(0, 8), out(1, 1), out(2, 1)])).unwrap();
        assert_eq!(ok.tiers[0].balance, Amount::from_sat(900_000_000));
        assert_eq!(ok.tiers[1].balance, Amount::from_sat(100_000_000));
        assert_eq!(ok.cold_percent, 90.0);
        assert!(ok.ratio_ok && ok.finding().is_none());

        let low = audit_balances(&policy(), &Fixed(vec![out(0, 7), out(3, 3)])).unwrap();
        assert_eq!(low.cold_percent, 70.0);
        assert_eq!(
            low.finding(),
            Some(RatioFinding {
                cold_percent: 70.0,
                cold_min_percent: 80
            })
        );
        assert!(low.to_text().contains("FINDING"));
    }

    #[test]
    fn scans_exactly_the_policys_address_range() {
        let p = policy();
        let max = p.rules().addresses().max_index();
        let at = |index: u32| ScannedOutput {
            script_pubkey: p.descriptor(Tier::Cold).script_pubkey(Chain::Change, index),
            amount: Amount::from_int_btc(1),
            height: 1,
        };
        // A scanner that answers more than was asked is not believed.
        let r = audit_balances(&p, &Fixed(vec![at(max), at(max + 1)])).unwrap();
        assert_eq!(r.last_index, max);
        assert_eq!(r.tiers[0].balance, Amount::from_sat(100_000_000));
    }

    #[test]
    fn an_empty_vault_is_not_a_finding() {
        let r = audit_balances(&policy(), &Fixed(vec![])).unwrap();
        assert_eq!(r.total, Amount::ZERO);
        assert!(r.ratio_ok);
    }
}

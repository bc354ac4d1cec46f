//! What `policy show` prints: the policy id, wallets, quorum rules and
//! importable descriptors, for people (text) and scripts (JSON).

use std::fmt::Write as _;

use serde::Serialize;

use super::{format_amount, Chain, PayoutDestinations, Tier, VaultPolicy};

/// A summary of a policy for display.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyReport {
    /// Policy id (hex).
    pub policy_id: String,
    /// Vault name.
    pub vault: String,
    /// Network.
    pub network: String,
    /// Cold then hot.
    pub wallets: Vec<WalletReport>,
    /// Approvers.
    pub approvers: Vec<ApproverReport>,
    /// Rules in words.
    pub rules: RulesReport,
    /// Signing paths with keys held on devices, which enforce none of the
    /// rules: how many custodia signers every quorum still needs.
    pub device_warnings: Vec<String>,
}

/// One tier's wallet.
#[derive(Debug, Clone, Serialize)]
pub struct WalletReport {
    /// `cold` or `hot`.
    pub tier: String,
    /// `wsh` or `tr`.
    pub script: String,
    /// e.g. `3-of-5`.
    pub quorum: String,
    /// Key ids with holder and location.
    pub keys: Vec<KeyReport>,
    /// Recovery path, in words.
    pub recovery: Option<String>,
    /// Multipath descriptor with checksum.
    pub descriptor: String,
    /// Receive descriptor (`/0/*`) with checksum, for Bitcoin Core `importdescriptors`.
    pub receive_descriptor: String,
    /// Change descriptor (`/1/*`) with checksum.
    pub change_descriptor: String,
    /// First receive address, to compare across machines.
    pub first_address: String,
}

/// One key.
#[derive(Debug, Clone, Serialize)]
pub struct KeyReport {
    /// Key id.
    pub id: String,
    /// Department of the holder.
    pub holder: String,
    /// Location.
    pub location: String,
    /// Master fingerprint.
    pub fingerprint: String,
    /// `custodia` or `device`.
    pub signer: String,
}

/// One approver.
#[derive(Debug, Clone, Serialize)]
pub struct ApproverReport {
    /// Id.
    pub id: String,
    /// Department.
    pub department: String,
    /// x-only public key.
    pub pubkey: String,
}

/// Rules.
#[derive(Debug, Clone, Serialize)]
pub struct RulesReport {
    /// Approvals for cold→hot.
    pub cold_to_hot: String,
    /// Payouts from hot.
    pub payouts: String,
    /// Fee caps.
    pub fees: String,
    /// Cold ratio.
    pub ratio: String,
    /// Highest address index used, and so watched.
    pub max_index: u32,
}

impl PolicyReport {
    /// Builds the report of a policy.
    pub fn new(policy: &VaultPolicy) -> Self {
        let wallets = Tier::ALL
            .iter()
            .map(|&tier| {
                let w = policy.wallet(tier);
                let d = policy.descriptor(tier);
                WalletReport {
                    tier: tier.to_string(),
                    script: w.script().to_string(),
                    quorum: format!("{}-of-{}", w.threshold(), w.keys().len()),
                    keys: w
                        .keys()
                        .iter()
                        .chain(w.recovery().map(|r| r.keys()).unwrap_or_default())
                        .filter_map(|id| policy.key(id))
                        .map(|k| KeyReport {
                            id: k.id().to_string(),
                            holder: k.holder().to_owned(),
                            location: k.location().to_owned(),
                            fingerprint: k.xpub().fingerprint().to_string(),
                            signer: k.signer().to_string(),
                        })
                        .fold(Vec::<KeyReport>::new(), |mut acc, k| {
                            if !acc.iter().any(|x| x.id == k.id) {
                                acc.push(k);
                            }
                            acc
                        }),
                    recovery: w.recovery().map(|r| {
                        format!(
                            "{}-of-{} ({}) after {} blocks without movement",
                            r.threshold(),
                            r.keys().len(),
                            r.keys()
                                .iter()
                                .map(|k| k.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                            r.after_blocks()
                        )
                    }),
                    descriptor: d.to_string(),
                    receive_descriptor: d.chain(Chain::Receive).to_string(),
                    change_descriptor: d.chain(Chain::Change).to_string(),
                    first_address: d.address(Chain::Receive, 0, policy.network()).to_string(),
                }
            })
            .collect();
        let r = policy.rules();
        let c = r.cold_to_hot();
        let p = r.payouts();
        PolicyReport {
            policy_id: policy.id().to_string(),
            vault: policy.name().to_owned(),
            network: policy.network().to_string(),
            wallets,
            approvers: policy
                .approvers()
                .values()
                .map(|a| ApproverReport {
                    id: a.id().to_string(),
                    department: a.department().to_owned(),
                    pubkey: a.pubkey().to_string(),
                })
                .collect(),
            rules: RulesReport {
                cold_to_hot: format!(
                    "{} approvals from {} departments; at most {} per movement, {} in any 24 hours",
                    c.min_approvals(),
                    c.min_departments(),
                    format_amount(c.max_amount()),
                    format_amount(c.daily_limit())
                ),
                payouts: format!(
                    "{}; at most {} per payout, {} in any 24 hours",
                    match p.destinations() {
                        PayoutDestinations::AnyAddress => "any address".to_owned(),
                        PayoutDestinations::Allowlist(l) =>
                            format!("{} allowlisted addresses", l.len()),
                    },
                    format_amount(p.max_amount()),
                    format_amount(p.daily_limit())
                ),
                fees: format!(
                    "at most {} and {} per transaction",
                    r.fees().max_feerate(),
                    format_amount(r.fees().max_fee())
                ),
                ratio: format!(
                    "at least {}% cold; rebalance aims at {}% hot",
                    r.ratio().cold_min_percent(),
                    r.ratio().hot_target_percent()
                ),
                max_index: r.addresses().max_index(),
            },
            device_warnings: policy.device_warnings(),
        }
    }

    /// The report for people.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "vault      {} ({})", self.vault, self.network);
        let _ = writeln!(s, "policy id  {}", self.policy_id);
        for w in &self.wallets {
            let _ = writeln!(s, "\n{} wallet: {} {}", w.tier, w.quorum, w.script);
            for k in &w.keys {
                let device = if k.signer == "device" { "  device" } else { "" };
                let _ = writeln!(
                    s,
                    "  {:<12} {:<12} {:<20} {}{device}",
                    k.id, k.holder, k.location, k.fingerprint
                );
            }
            if let Some(r) = &w.recovery {
                let _ = writeln!(s, "  recovery: {r}");
            }
            let _ = writeln!(s, "  first address  {}", w.first_address);
        }
        let _ = writeln!(s, "\napprovers");
        for a in &self.approvers {
            let _ = writeln!(s, "  {:<12} {:<12} {}", a.id, a.department, a.pubkey);
        }
        let _ = writeln!(s, "\nrules");
        let _ = writeln!(s, "  cold→hot  {}", self.rules.cold_to_hot);
        let _ = writeln!(s, "  payouts   {}", self.rules.payouts);
        let _ = writeln!(s, "  fees      {}", self.rules.fees);
        let _ = writeln!(s, "  ratio     {}", self.rules.ratio);
        let _ = writeln!(
            s,
            "  addresses indexes 0 to {} on every chain; nothing beyond is signed or watched",
            self.rules.max_index
        );
        for w in &self.device_warnings {
            let _ = writeln!(
                s,
                "
WARNING: {w}"
            );
        }
        s
    }

    /// The descriptors alone, one block per tier, for import into Bitcoin Core or Sparrow.
    pub fn descriptors_text(&self) -> String {
        let mut s = String::new();
        for w in &self.wallets {
            let _ = writeln!(s, "# {} wallet ({} {})", w.tier, w.quorum, w.script);
            let _ = writeln!(s, "{}", w.descriptor);
            let _ = writeln!(s, "# receive\n{}", w.receive_descriptor);
            let _ = writeln!(s, "# change\n{}\n", w.change_descriptor);
        }
        s
    }
}

//! Balances per tier and the cold ratio the policy demands.

use bitcoin::Amount;
use serde::Serialize;

use crate::policy::{RatioRule, Tier};

use super::wallets::VaultWallets;

/// One tier's funds as the wallet sees them after the last sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TierBalance {
    /// In blocks (and mature).
    #[serde(rename = "confirmed_sat", with = "bitcoin::amount::serde::as_sat")]
    pub confirmed: Amount,
    /// In the mempool: our own change (trusted) and incoming payments (untrusted).
    #[serde(rename = "unconfirmed_sat", with = "bitcoin::amount::serde::as_sat")]
    pub unconfirmed: Amount,
    /// Coinbase outputs not yet spendable.
    #[serde(rename = "immature_sat", with = "bitcoin::amount::serde::as_sat")]
    pub immature: Amount,
}

impl TierBalance {
    /// Everything the tier holds.
    pub fn total(&self) -> Amount {
        self.confirmed + self.unconfirmed + self.immature
    }
}

/// The vault's funds and whether enough of them are cold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultBalance {
    /// Cold tier.
    pub cold: TierBalance,
    /// Hot tier.
    pub hot: TierBalance,
    /// The policy's ratio rule.
    pub ratio: RatioRule,
}

impl VaultBalance {
    /// Reads both wallets, each on a core: a balance is a pass over every
    /// transaction of the wallet.
    pub fn of(wallets: &VaultWallets, ratio: &RatioRule) -> VaultBalance {
        let tier = |wallet: &bdk_wallet::Wallet| {
            let b = wallet.balance();
            TierBalance {
                confirmed: b.confirmed,
                unconfirmed: b.trusted_pending + b.untrusted_pending,
                immature: b.immature,
            }
        };
        let (cold, hot) = (wallets.cold.wallet(), wallets.hot.wallet());
        let (cold, hot) = rayon::join(|| tier(cold), || tier(hot));
        VaultBalance {
            cold,
            hot,
            ratio: ratio.clone(),
        }
    }

    /// One tier.
    pub fn tier(&self, tier: Tier) -> TierBalance {
        match tier {
            Tier::Cold => self.cold,
            Tier::Hot => self.hot,
        }
    }

    /// Both tiers together.
    pub fn total(&self) -> Amount {
        self.cold.total() + self.hot.total()
    }

    /// The cold share in percent (100 for an empty vault).
    pub fn cold_percent(&self) -> f64 {
        percent(self.cold.total(), self.total())
    }

    /// Whether the cold share meets the policy's minimum.
    pub fn ratio_ok(&self) -> bool {
        self.ratio.cold_share_ok(self.cold.total(), self.total())
    }

    /// The report as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "cold": self.tier_json(Tier::Cold),
            "hot": self.tier_json(Tier::Hot),
            "total_sat": self.total().to_sat(),
            "cold_percent": (self.cold_percent() * 100.0).round() / 100.0,
            "cold_min_percent": self.ratio.cold_min_percent(),
            "hot_target_percent": self.ratio.hot_target_percent(),
            "ratio_ok": self.ratio_ok(),
        })
    }

    fn tier_json(&self, tier: Tier) -> serde_json::Value {
        let b = self.tier(tier);
        let mut v = serde_json::to_value(b).expect("balances serialize");
        v["total_sat"] = b.total().to_sat().into();
        v
    }

    /// The report for people.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{:<6} {:>20} {:>20} {:>20}\n",
            "tier", "confirmed", "unconfirmed", "total"
        );
        for t in Tier::ALL {
            let b = self.tier(t);
            out.push_str(&format!(
                "{:<6} {:>20} {:>20} {:>20}\n",
                t.as_str(),
                btc(b.confirmed),
                btc(b.unconfirmed),
                btc(b.total())
            ));
            if b.immature > Amount::ZERO {
                out.push_str(&format!(
                    "       (of which immature coinbase: {})\n",
                    btc(b.immature)
                ));
            }
        }
        out.push_str(&format!(
            "{:<6} {:>20} {:>20} {:>20}\n",
            "all",
            "",
            "",
            btc(self.total())
        ));
        out.push_str(&format!(
            "cold ratio: {:.2}% (minimum {}%): {}\n",
            self.cold_percent(),
            self.ratio.cold_min_percent(),
            if self.ratio_ok() {
                "OK"
            } else {
                "BELOW MINIMUM"
            }
        ));
        out
    }
}

pub use crate::policy::btc;
pub use crate::policy::rules::percent;

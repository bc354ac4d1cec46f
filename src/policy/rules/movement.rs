//! The kind of movement a transaction makes, from the tiers it spends and
//! pays: what the other rules are keyed on.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::policy::Tier;

/// What a transaction does with vault funds. Approvals sign it, and the log
/// records it, so that an approval for a consolidation cannot be replayed for
/// a transfer with the same txid (which cannot happen, but costs nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Movement {
    /// Cold wallet pays the hot wallet: needs approvals.
    ColdToHot,
    /// Hot wallet pays back to cold.
    HotToCold,
    /// Hot wallet pays outside addresses.
    HotPayout,
    /// Cold wallet pays outside addresses: always refused.
    ColdPayout,
    /// Cold wallet pays only itself.
    ColdConsolidation,
    /// Hot wallet pays only itself.
    HotConsolidation,
    /// A proof that the cold quorum controls its coins (BIP-127 style): the
    /// transaction spends a challenge that does not exist, so it can never
    /// be mined and moves nothing.
    #[serde(rename = "cold-proof-of-control")]
    ColdProof,
    /// A proof that the hot quorum controls its coins.
    #[serde(rename = "hot-proof-of-control")]
    HotProof,
    /// Cold wallet moves to the cold wallet of the vault's registered
    /// successor policy (a key rotation): needs the cold→hot approvals.
    ColdMigration,
    /// Hot wallet moves to the hot wallet of the successor policy.
    HotMigration,
}

impl Movement {
    /// All kinds.
    pub const ALL: [Movement; 10] = [
        Movement::ColdToHot,
        Movement::HotToCold,
        Movement::HotPayout,
        Movement::ColdPayout,
        Movement::ColdConsolidation,
        Movement::HotConsolidation,
        Movement::ColdProof,
        Movement::HotProof,
        Movement::ColdMigration,
        Movement::HotMigration,
    ];

    /// The byte that stands for this kind in approvals (see docs/psbt-fields.md).
    pub fn code(self) -> u8 {
        match self {
            Movement::ColdToHot => 1,
            Movement::HotToCold => 2,
            Movement::HotPayout => 3,
            Movement::ColdPayout => 4,
            Movement::ColdConsolidation => 5,
            Movement::HotConsolidation => 6,
            Movement::ColdProof => 7,
            Movement::HotProof => 8,
            Movement::ColdMigration => 9,
            Movement::HotMigration => 10,
        }
    }

    /// The kind a code stands for.
    pub fn from_code(code: u8) -> Option<Movement> {
        Movement::ALL.into_iter().find(|m| m.code() == code)
    }

    /// The kind of a movement out of `source`: `pays_external` if any output
    /// leaves the vault, else `pays_other_tier` if any goes to the other tier.
    pub fn of(source: Tier, pays_external: bool, pays_other_tier: bool) -> Movement {
        match (source, pays_external, pays_other_tier) {
            (Tier::Cold, true, _) => Movement::ColdPayout,
            (Tier::Hot, true, _) => Movement::HotPayout,
            (Tier::Cold, false, true) => Movement::ColdToHot,
            (Tier::Hot, false, true) => Movement::HotToCold,
            (Tier::Cold, false, false) => Movement::ColdConsolidation,
            (Tier::Hot, false, false) => Movement::HotConsolidation,
        }
    }

    /// The proof of control of `tier`'s coins.
    pub fn proof_of(tier: Tier) -> Movement {
        match tier {
            Tier::Cold => Movement::ColdProof,
            Tier::Hot => Movement::HotProof,
        }
    }

    /// The migration of `tier` to the successor policy's same tier.
    pub fn migration_of(tier: Tier) -> Movement {
        match tier {
            Tier::Cold => Movement::ColdMigration,
            Tier::Hot => Movement::HotMigration,
        }
    }

    /// Whether this moves a tier to the successor policy's same tier.
    pub fn is_migration(self) -> bool {
        matches!(self, Movement::ColdMigration | Movement::HotMigration)
    }

    /// Whether this is a proof of control: it moves nothing, pays no fee and
    /// is never counted toward a limit.
    pub fn is_proof(self) -> bool {
        matches!(self, Movement::ColdProof | Movement::HotProof)
    }

    /// The tier whose coins the movement spends (or, for a proof of
    /// control, signs for).
    pub fn source(self) -> Tier {
        match self {
            Movement::ColdToHot
            | Movement::ColdPayout
            | Movement::ColdConsolidation
            | Movement::ColdProof
            | Movement::ColdMigration => Tier::Cold,
            Movement::HotToCold
            | Movement::HotPayout
            | Movement::HotConsolidation
            | Movement::HotProof
            | Movement::HotMigration => Tier::Hot,
        }
    }

    /// Machine name, e.g. `cold-to-hot`.
    pub fn as_str(self) -> &'static str {
        match self {
            Movement::ColdToHot => "cold-to-hot",
            Movement::HotToCold => "hot-to-cold",
            Movement::HotPayout => "hot-payout",
            Movement::ColdPayout => "cold-payout",
            Movement::ColdConsolidation => "cold-consolidation",
            Movement::HotConsolidation => "hot-consolidation",
            Movement::ColdProof => "cold-proof-of-control",
            Movement::HotProof => "hot-proof-of-control",
            Movement::ColdMigration => "cold-migration",
            Movement::HotMigration => "hot-migration",
        }
    }

    /// Whether the policy's approval quorum applies: a transfer out of
    /// cold storage to hot, and cold funds moving to a successor vault; a
    /// payout from cold is refused outright, and everything else moves under
    /// the signers' quorum alone.
    pub fn needs_approvals(self) -> bool {
        matches!(self, Movement::ColdToHot | Movement::ColdMigration)
    }

    /// Words for people.
    pub fn describe(self) -> &'static str {
        match self {
            Movement::ColdToHot => "cold → hot transfer",
            Movement::HotToCold => "hot → cold transfer",
            Movement::HotPayout => "hot payout",
            Movement::ColdPayout => "payout from cold (never allowed)",
            Movement::ColdConsolidation => "cold consolidation",
            Movement::HotConsolidation => "hot consolidation",
            Movement::ColdProof => "proof of control of the cold wallet (moves nothing)",
            Movement::HotProof => "proof of control of the hot wallet (moves nothing)",
            Movement::ColdMigration => "cold migration to the successor vault",
            Movement::HotMigration => "hot migration to the successor vault",
        }
    }
}

impl fmt::Display for Movement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that names no kind of movement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown movement `{0}`; use one of cold-to-hot, hot-to-cold, hot-payout, cold-payout, cold-consolidation, hot-consolidation, cold-proof-of-control, hot-proof-of-control, cold-migration, hot-migration")]
pub struct UnknownMovement(pub String);

impl std::str::FromStr for Movement {
    type Err = UnknownMovement;
    fn from_str(s: &str) -> Result<Self, UnknownMovement> {
        Movement::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownMovement(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        for m in Movement::ALL {
            assert_eq!(Movement::from_code(m.code()), Some(m));
            assert_eq!(m.as_str().parse::<Movement>(), Ok(m));
            assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
        }
        assert_eq!(Movement::from_code(0), None);
        assert_eq!(Movement::of(Tier::Cold, false, true), Movement::ColdToHot);
        assert_eq!(Movement::of(Tier::Cold, true, true), Movement::ColdPayout);
        assert!(Movement::proof_of(Tier::Hot).is_proof());
        assert_eq!(Movement::proof_of(Tier::Cold).source(), Tier::Cold);
        assert!(!Movement::proof_of(Tier::Cold).needs_approvals());
    }
}

//! What a key holder sees of a policy: the keys and approval keys this
//! laptop holds of it, a registration about to happen, and the policies
//! registered.

use std::fmt::Write as _;

use bitcoin::bip32::Fingerprint;
use serde::Serialize;

use super::{render_diff, DiffLine};
use crate::policy::{ApproverId, KeyId, PolicyReport, VaultPolicy};

/// A key of the policy this signer holds (its master fingerprint matches the
/// key's origin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldKey {
    /// Key id in the policy.
    pub key: KeyId,
    /// Where the key is used: `cold`, `hot`, `cold recovery`, `hot recovery`.
    pub roles: Vec<String>,
    /// The key's origin xpub in the policy.
    pub xpub: String,
}

/// What this signer holds of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holdings {
    /// Master fingerprint of this signer's seed, if it has one.
    pub fingerprint: Option<Fingerprint>,
    /// Wallet keys of the policy with this signer's fingerprint.
    pub keys: Vec<HeldKey>,
    /// Approvers of the policy whose approval key (same id and public key) is stored here.
    pub approvers: Vec<ApproverId>,
    /// Approver ids stored here whose public key differs from the policy's.
    pub approver_mismatches: Vec<ApproverId>,
}

impl Holdings {
    /// True when the signer can neither sign nor approve for the policy.
    pub fn review_only(&self) -> bool {
        self.keys.is_empty() && self.approvers.is_empty()
    }

    /// Lines for people.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let fp = self
            .fingerprint
            .map_or_else(|| "no seed".to_owned(), |f| f.to_string());
        if self.keys.is_empty() {
            let _ = writeln!(s, "this signer ({fp}) holds no wallet key of this policy");
        }
        for k in &self.keys {
            let _ = writeln!(
                s,
                "this signer ({fp}) holds key {} ({})",
                k.key,
                k.roles.join(", ")
            );
        }
        for a in &self.approvers {
            let _ = writeln!(s, "this signer holds the approval key of approver {a}");
        }
        for a in &self.approver_mismatches {
            let _ = writeln!(s, "WARNING: approval key `{a}` stored here is not the policy's approver {a} (public keys differ); it cannot approve for this policy");
        }
        if self.review_only() {
            let _ = writeln!(s, "WARNING: this signer holds no key and no approver of this policy; it can only review, never sign or approve");
        }
        s
    }
}

/// How a policy relates to what is registered.
#[derive(Debug, Clone)]
pub enum RegistrationStatus {
    /// No policy of this vault is registered.
    New,
    /// Exactly this policy is registered already.
    AlreadyRegistered,
    /// Another policy of the same vault is registered; this one would replace it.
    Replaces {
        /// The registered policy.
        old: Box<VaultPolicy>,
        /// Canonical TOML, old to new.
        diff: Vec<DiffLine>,
    },
}

/// A policy about to be registered, with everything the operator should see.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The policy.
    pub policy: VaultPolicy,
    /// What this signer holds of it.
    pub holdings: Holdings,
    /// New, already registered, or replacing.
    pub status: RegistrationStatus,
}

impl Registration {
    /// Whether the policy names a key of this signer's seed, which
    /// registering derives again from the seed (the passphrase is needed).
    pub fn needs_seed(&self) -> bool {
        !self.holdings.keys.is_empty()
    }

    /// The summary shown before asking for confirmation.
    pub fn to_text(&self) -> String {
        let mut s = PolicyReport::new(&self.policy).to_text();
        s.push('\n');
        s.push_str(&self.holdings.to_text());
        match &self.status {
            RegistrationStatus::New => {}
            RegistrationStatus::AlreadyRegistered => {
                let _ = writeln!(s, "\nthis policy is registered already; nothing to do");
            }
            RegistrationStatus::Replaces { old, diff } => {
                let _ = writeln!(
                    s,
                    "\nREPLACES policy {} of vault `{}`. Changes (- registered, + new):\n{}",
                    old.id(),
                    old.name(),
                    render_diff(diff, 2)
                );
            }
        }
        s
    }
}

/// One registered policy, for `policies`.
#[derive(Debug, Clone, Serialize)]
pub struct RegisteredPolicy {
    /// Policy id.
    pub policy_id: String,
    /// Vault name.
    pub vault: String,
    /// Network.
    pub network: String,
    /// e.g. `3-of-5 wsh`.
    pub cold: String,
    /// e.g. `2-of-3 wsh`.
    pub hot: String,
    /// What this signer holds of it.
    pub holdings: Holdings,
}

impl RegisteredPolicy {
    /// One line for `policies`.
    pub fn to_line(&self) -> String {
        let held: Vec<&str> = self
            .holdings
            .keys
            .iter()
            .map(|k| k.key.as_str())
            .chain(self.holdings.approvers.iter().map(|a| a.as_str()))
            .collect();
        let held = match held.is_empty() {
            true => "nothing (review only)".to_owned(),
            false => held.join(", "),
        };
        format!(
            "{} {} ({}) cold {} hot {}; holds {held}",
            self.policy_id, self.vault, self.network, self.cold, self.hot
        )
    }
}

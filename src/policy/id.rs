//! The policy id: SHA-256 of the policy's canonical form.
//!
//! The canonical form is the validated policy written back as compact JSON with
//! fields in a fixed order, lists sorted, amounts in one notation and keys in
//! one spelling; so layout, comments and the order of entries in the TOML file
//! do not change the id, while any change of meaning does.

use std::fmt;
use std::str::FromStr;

use bitcoin::hashes::{sha256, Hash};
use serde::{Deserialize, Serialize};

use super::file::PolicyFile;

/// Prefix hashed before the canonical form, so the id can never collide with
/// another SHA-256 use of the same bytes, and so a later format can change it.
const DOMAIN: &[u8] = b"custodia/policy/v1\n";

/// Identifies one exact vault policy. Proposals, approvals, signatures and
/// audit reports all name it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PolicyId([u8; 32]);

impl PolicyId {
    /// Computes the id of a canonical policy file.
    pub(crate) fn of_canonical(canonical: &PolicyFile) -> Self {
        let json = serde_json::to_vec(canonical).expect("a policy file serializes to JSON");
        let mut bytes = DOMAIN.to_vec();
        bytes.extend_from_slice(&json);
        PolicyId(sha256::Hash::hash(&bytes).to_byte_array())
    }

    /// The 32 bytes.
    pub fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    /// From 32 bytes, as carried in a PSBT.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        PolicyId(bytes)
    }

    /// The first 8 hex characters, for people comparing ids at a glance.
    pub fn short(&self) -> String {
        self.to_string()[..8].to_owned()
    }
}

impl fmt::Display for PolicyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for PolicyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PolicyId({self})")
    }
}

/// A text that is not a policy id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a policy id (64 hex characters)")]
pub struct BadPolicyId(pub String);

impl FromStr for PolicyId {
    type Err = BadPolicyId;
    fn from_str(s: &str) -> Result<Self, BadPolicyId> {
        let bad = || BadPolicyId(s.to_owned());
        if s.len() != 64 || !s.is_ascii() {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(PolicyId(out))
    }
}

impl TryFrom<String> for PolicyId {
    type Error = BadPolicyId;
    fn try_from(s: String) -> Result<Self, BadPolicyId> {
        s.parse()
    }
}

impl From<PolicyId> for String {
    fn from(id: PolicyId) -> String {
        id.to_string()
    }
}

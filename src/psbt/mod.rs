//! PSBTs: strict reading, review against the vault policy, approvals.

//! custodia: multisig cold and hot wallets for a bitcoin exchange or treasury.
//!
//! The library holds every rule; the three programs in `src/bin/` only parse
//! arguments, call into it and print. Modules:
//!
//! - [`policy`]: the vault policy file, its validation, descriptors and id.
//! - [`psbt`]: reading PSBTs strictly, reviewing them against the policy, approvals.
//! - [`signer`]: the air-gapped key store and policy-enforced signing.
//! - `coordinator` (feature `online`): watch-only wallets, sync, proposals.
//! - [`audit`]: hash-chained logs, balances, reconciliation.
//! - [`transport`]: moving files between machines safely.
//! - [`error`]: exit codes; [`cli`] maps errors to them at the edge.
//! - [`progress`]: how long work over blocks reports that it advances.
//! - [`ui`]: prompting and printing, for the programs only.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
pub mod cli;
#[cfg(feature = "online")]
pub mod coordinator;
pub mod crash_point;
pub mod error;
pub mod policy;
pub mod progress;
pub mod psbt;
pub mod signer;
pub mod transport;
pub mod ui;

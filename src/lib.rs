//! custodia: multisig cold and hot wallets for a bitcoin exchange or treasury.
//!
//! The library holds every rule; the three programs in `src/bin/` only parse
//! arguments, call into it and print. Modules:
//!
//! - [`policy`]: the vault policy file, its validation, descriptors and id.
//! - [`transport`]: moving files between machines safely.
//! - [`error`]: exit codes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
pub mod cli;
pub mod error;
pub mod policy;
pub mod signer;
pub mod transport;

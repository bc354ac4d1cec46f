//! The air-gapped signer: key store, policy registration, signing.
//!
//! - [`keystore`]: the data directory, the encrypted seed, backups.
//! - [`approval_key`]: approvers' BIP-340 keys, stored like the seed.
//! - [`registry`]: the policies this signer has been told to sign for.
//! - [`policy_update`]: approving a successor of the registered policy.
//! - [`account`]: BIP-48 account keys.
//! - [`signing`]: policy-enforced, linear-time signing of reviewed PSBTs.
//! - [`cli`]: the arguments of `custodia-signer`.

pub mod account;
pub mod approval_key;
pub mod cli;
pub mod harden;
pub mod keystore;
pub mod online;
pub mod policy_update;
pub mod registration;
pub mod registry;
pub mod selftest;
pub mod signing;

pub use approval_key::{ApprovalKey, ApproverInfo, ApproverSecret};
pub use keystore::{
    KeyInfo, KeyStoreError, MasterKey, Mnemonic, Passphrase, SignerHome, UnlockedSeed,
};
pub use registry::{Registration, RegistryError};

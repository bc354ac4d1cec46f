//! The air-gapped signer: key store, policy registration, signing.

pub mod account;

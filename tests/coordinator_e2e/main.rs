//! The coordinator end to end against a real regtest bitcoind: init, fund,
//! sync, balances and ratio, proposals, approvals, signatures, combine,
//! finalize, broadcast, the event log, reorgs and bad input.
#![cfg(feature = "online")]

#[path = "../common/mod.rs"]
mod common;

mod support;

mod audit;
mod crash;
mod devices;
mod governance;
mod hot;
mod limits;
mod proof;
mod qr_compact;
mod recovery;
mod refusals;
mod reorg;
mod rotation;
mod setup;
mod signers;
mod transfers;

//! Moving PSBTs and other files between the coordinator, signers and auditors.

mod file;

pub use file::{write_atomically, write_new_atomically, FileError};

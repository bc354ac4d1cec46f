//! Moving PSBTs and other files between the coordinator, signers and auditors.

mod file;
pub mod private;

pub use file::{write_atomically, write_new_atomically, FileError};
pub use private::PrivateFileError;

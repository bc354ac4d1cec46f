//! Moving PSBTs and other files between the coordinator, signers and auditors:
//! as files written atomically, or as animated QR codes ([`qr`]).

mod file;
pub mod private;
pub mod qr;

pub use file::{sync_parent, write_atomically, write_new_atomically, FileError, PreparedFile};
pub use private::PrivateFileError;

//! What the signer does to its own process before anything else: on Linux
//! it becomes non-dumpable (`prctl(PR_SET_DUMPABLE, 0)`), so a crash, an
//! abort or a debugger-less `kill -ABRT` writes no core file holding the
//! seed or the passphrase, and other processes of the same user cannot read
//! its memory through `/proc/PID/mem` or attach with ptrace.

/// Makes the process non-dumpable where the system allows it. A failure is
/// reported, not fatal: the seed is still encrypted at rest.
pub fn no_core_dumps() -> Result<(), std::io::Error> {
    #[cfg(target_os = "linux")]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(std::io::Error::from)?;
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_process_becomes_non_dumpable() {
        super::no_core_dumps().unwrap();
        assert_eq!(
            rustix::process::dumpable_behavior().unwrap(),
            rustix::process::DumpableBehavior::NotDumpable
        );
    }
}

//! Crash points, for the tests that stop a program at every write in turn.
//!
//! Every place where a file is about to be written, synced or renamed calls
//! [`reached`]. In debug builds, `CUSTODIA_CRASH_AT=N` makes the process kill
//! itself with SIGKILL at the N-th such place (no destructor runs, nothing is
//! flushed: what a power cut leaves, short of the disk's own cache), and
//! `CUSTODIA_CRASH_REPORT=1` names each place on stderr as it is reached.
//! Release builds — what a key holder runs — compile [`reached`] to nothing.
//!
//! This module sits at the bottom of the crate and imports nothing from it.

/// A write, sync or rename is about to happen (`what` names it).
#[inline]
pub fn reached(what: &str) {
    #[cfg(debug_assertions)]
    armed::reached(what);
    #[cfg(not(debug_assertions))]
    let _ = what;
}

#[cfg(debug_assertions)]
mod armed {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::OnceLock;

    static COUNT: AtomicU32 = AtomicU32::new(0);

    fn target() -> Option<u32> {
        static TARGET: OnceLock<Option<u32>> = OnceLock::new();
        *TARGET.get_or_init(|| std::env::var("CUSTODIA_CRASH_AT").ok()?.parse().ok())
    }

    pub(super) fn reached(what: &str) {
        let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
        if std::env::var_os("CUSTODIA_CRASH_REPORT").is_some() {
            eprintln!("crash point {n}: {what}");
        }
        if target() == Some(n) {
            die();
        }
    }

    #[cfg(target_os = "linux")]
    fn die() {
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
        std::process::abort();
    }

    #[cfg(not(target_os = "linux"))]
    fn die() {
        std::process::abort();
    }
}

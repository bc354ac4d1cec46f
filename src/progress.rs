//! How the library tells a program that long work over blocks advances (a
//! coordinator's sync, an auditor's walk of the chain), without drawing
//! anything itself.

/// Told how work over a range of blocks advances, so that a program can draw progress; the
/// library itself draws nothing. Methods take `&self` so one reporter can
/// be shared by everything a command does.
pub trait SyncProgress: Send + Sync {
    /// Work `label` (e.g. `cold+hot`) starts at height `from` toward `to`.
    fn start(&self, label: &str, from: u32, to: u64);
    /// It reached `height`.
    fn advance(&self, height: u64);
    /// It is done.
    fn finish(&self);
}

/// Shows nothing (scripts, `--json`, tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl SyncProgress for Quiet {
    fn start(&self, _: &str, _: u32, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

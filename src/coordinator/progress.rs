//! How the library tells a program that a sync advances, without drawing
//! anything itself.

/// Told how a sync advances, so that a program can draw progress; the
/// library itself draws nothing. Methods take `&self` so one reporter can
/// be shared by everything a command does.
pub trait SyncProgress: Send + Sync {
    /// Wallets `label` (e.g. `cold+hot`) start at height `from` toward `to`.
    fn start(&self, label: &str, from: u32, to: u64);
    /// They reached `height`.
    fn advance(&self, height: u64);
    /// They are done.
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

//! Progress over blocks on the terminal: a bar on stderr when stderr is a
//! terminal, nothing in pipes and scripts.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use crate::progress::SyncProgress;

/// Draws one bar per piece of work (a group of wallets synced, a walk).
#[derive(Default)]
pub struct TerminalProgress {
    /// The bar, and the height it started at.
    bar: Mutex<Option<(ProgressBar, u64)>>,
}

impl SyncProgress for TerminalProgress {
    fn start(&self, label: &str, from: u32, to: u64) {
        if !std::io::stderr().is_terminal() {
            return;
        }
        let bar = ProgressBar::new(to.saturating_sub(u64::from(from)));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:40}] {pos}/{len} blocks {eta}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(label.to_owned());
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some((bar, u64::from(from)));
    }

    fn advance(&self, height: u64) {
        // The bar counts blocks from its start, not heights.
        if let Some((bar, from)) = &*self.bar.lock().unwrap_or_else(|e| e.into_inner()) {
            bar.set_position(height.saturating_sub(*from));
        }
    }

    fn finish(&self) {
        if let Some((bar, _)) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}

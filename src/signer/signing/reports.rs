//! What `sign` and `approve` tell the person when they are done.

use std::fmt::Write as _;

use super::session::{ApproveReport, SignReport};

impl SignReport {
    /// The result for people: what was signed, what was written, and any
    /// bogus signature that was replaced.
    pub fn to_text(&self) -> String {
        let keys: Vec<&str> = self.outcome.keys.iter().map(|k| k.as_str()).collect();
        let mut s = format!(
            "signed {} input(s) with {}; wrote {}\n",
            self.outcome.inputs_signed,
            keys.join(", "),
            self.output.display()
        );
        for r in &self.outcome.replaced {
            let _ = writeln!(
                s,
                "replaced a signature for key {} on input {} that was already in the PSBT and did not verify; ask the coordinator where it came from",
                r.key,
                r.slot.input()
            );
        }
        s
    }
}

impl ApproveReport {
    /// The result for people.
    pub fn to_text(&self) -> String {
        format!(
            "approval of {} added; wrote {}\n",
            self.approver,
            self.output.display()
        )
    }
}

//! Any bytes given to the PSBT reader are refused or read; a PSBT that is read
//! is reviewed against the example policy without panicking, its summary
//! renders, and writing it back unchanged gives bytes that read the same.
#![no_main]

use std::sync::OnceLock;

use custodia::policy::VaultPolicy;
use custodia::psbt::{DailySpending, LimitScope, PsbtDocument, Review};
use libfuzzer_sys::fuzz_target;

fn policy() -> &'static VaultPolicy {
    static POLICY: OnceLock<VaultPolicy> = OnceLock::new();
    POLICY.get_or_init(|| {
        VaultPolicy::from_toml(include_str!("../../policies/regtest-exchange.toml"))
            .expect("example policy")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = PsbtDocument::from_bytes(data) else {
        return;
    };
    let spending = DailySpending::empty(LimitScope::Signer, 0);
    let review = Review::of(policy(), doc.psbt(), &spending);
    let _ = review.to_text();
    let _ = serde_json::to_string(&review);
    let bytes = doc
        .write_back(doc.psbt())
        .expect("an unchanged PSBT writes back");
    let again = PsbtDocument::from_bytes(&bytes).expect("what was written reads");
    assert_eq!(again.psbt(), doc.psbt());
});

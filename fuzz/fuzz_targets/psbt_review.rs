//! Any bytes given to the PSBT reader are refused or read; a PSBT that is read
//! is reviewed against the example policy without panicking, its summary
//! renders, and writing it back unchanged gives bytes that read the same.
#![no_main]

use custodia::psbt::{DailySpending, LimitScope, PsbtDocument, Review};
use libfuzzer_sys::fuzz_target;

#[path = "../common/mod.rs"]
mod common;
use common::example_policy;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = PsbtDocument::from_bytes(data) else {
        return;
    };
    let spending = DailySpending::empty(LimitScope::Signer, 0);
    let review = Review::of(example_policy(), doc.psbt(), &spending);
    let _ = review.to_text();
    let _ = serde_json::to_string(&review);
    let bytes = doc
        .write_back(doc.psbt())
        .expect("an unchanged PSBT writes back");
    let again = PsbtDocument::from_bytes(&bytes).expect("what was written reads");
    assert_eq!(again.psbt(), doc.psbt());
});

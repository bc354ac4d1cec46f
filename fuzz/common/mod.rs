//! What several fuzz targets share: the example policy, read once, and the
//! binary bytes of a PSBT as it was read.

use std::sync::OnceLock;

use bitcoin::base64::engine::general_purpose::STANDARD;
use bitcoin::base64::Engine;
use custodia::policy::VaultPolicy;
use custodia::psbt::{Encoding, PsbtDocument};

/// The PSBT magic, `psbt` followed by 0xff.
#[allow(dead_code)] // each target uses some of this module
pub const MAGIC: &[u8] = b"psbt\xff";

/// The `regtest-exchange` example policy, parsed on first use.
#[allow(dead_code)]
pub fn example_policy() -> &'static VaultPolicy {
    static POLICY: OnceLock<VaultPolicy> = OnceLock::new();
    POLICY.get_or_init(|| {
        VaultPolicy::from_toml(include_str!("../../policies/regtest-exchange.toml"))
            .expect("example policy")
    })
}

/// The binary PSBT `doc` was read from `data`: `data` itself, or its base64
/// decoded as the reader does (whitespace dropped).
#[allow(dead_code)]
pub fn bytes_read(doc: &PsbtDocument, data: &[u8]) -> Vec<u8> {
    match doc.encoding() {
        Encoding::Binary => data.to_vec(),
        Encoding::Base64 => {
            let text: String = std::str::from_utf8(data)
                .expect("base64 that was read is text")
                .split_ascii_whitespace()
                .collect();
            STANDARD.decode(text).expect("base64 that was read decodes")
        }
    }
}

//! Sparrow's output-descriptor file: the receive-and-change (BIP-389)
//! descriptor, then the receive and change descriptors Bitcoin Core takes,
//! each under a `#` heading. Sparrow imports the first paragraph that is not
//! a comment; Specter reads the same file.

use std::str::FromStr;

use miniscript::descriptor::{Descriptor, DescriptorPublicKey};

use super::provenance;
use crate::policy::{Chain, Tier, VaultPolicy};

/// The descriptor file of one tier.
pub fn write(policy: &VaultPolicy, tier: Tier) -> String {
    let d = policy.descriptor(tier);
    format!(
        "# {}\n# Receive and change descriptor (BIP389):\n{}\n\n\n# Receive descriptor (Bitcoin Core):\n{}\n\n# Change descriptor (Bitcoin Core):\n{}\n",
        provenance(policy, tier),
        d.multipath(),
        d.chain(Chain::Receive),
        d.chain(Chain::Change)
    )
}

/// The descriptors of a file as Sparrow reads it: paragraphs of lines that
/// are not `#` comments, each one descriptor, in order.
pub fn read(text: &str) -> Result<Vec<Descriptor<DescriptorPublicKey>>, miniscript::Error> {
    let mut paragraphs = vec![String::new()];
    for line in text.lines().map(str::trim) {
        match line {
            "" => paragraphs.push(String::new()),
            l if l.starts_with('#') => {}
            l => paragraphs.last_mut().expect("never empty").push_str(l),
        }
    }
    paragraphs
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| Descriptor::from_str(p))
        .collect()
}

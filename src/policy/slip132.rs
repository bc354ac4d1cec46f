//! Extended public keys as devices write them: BIP-32 `xpub`/`tpub`, or the
//! SLIP-132 variants (`Zpub`, `Vpub`, `zpub`, …) whose version bytes also
//! name a script type. The key material is the same; custodia reads either
//! and keeps the BIP-32 form, since the policy states the script itself.

use bitcoin::base58;
use bitcoin::bip32::Xpub;

/// BIP-32 version bytes of mainnet and test-network public keys.
const XPUB: [u8; 4] = [0x04, 0x88, 0xb2, 0x1e];
const TPUB: [u8; 4] = [0x04, 0x35, 0x87, 0xcf];

/// SLIP-132 public versions: (bytes, mainnet?).
const SLIP132: [([u8; 4], bool); 8] = [
    ([0x04, 0x9d, 0x7c, 0xb2], true),  // ypub
    ([0x04, 0xb2, 0x47, 0x46], true),  // zpub
    ([0x02, 0x95, 0xb4, 0x3f], true),  // Ypub
    ([0x02, 0xaa, 0x7e, 0xd3], true),  // Zpub
    ([0x04, 0x4a, 0x52, 0x62], false), // upub
    ([0x04, 0x5f, 0x1c, 0xf6], false), // vpub
    ([0x02, 0x42, 0x89, 0xef], false), // Upub
    ([0x02, 0x57, 0x54, 0x83], false), // Vpub
];

/// Reads an extended public key in BIP-32 or SLIP-132 form.
pub fn parse_xpub(text: &str) -> Result<Xpub, String> {
    let mut data = base58::decode_check(text.trim()).map_err(|e| e.to_string())?;
    if data.len() != 78 {
        return Err(format!(
            "{} bytes, not the 78 of an extended key",
            data.len()
        ));
    }
    let version: [u8; 4] = data[..4].try_into().expect("78 bytes");
    if let Some((_, main)) = SLIP132.iter().find(|(v, _)| *v == version) {
        data[..4].copy_from_slice(if *main { &XPUB } else { &TPUB });
    }
    Xpub::decode(&data).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::NetworkKind;

    const TPUB_TEXT: &str = "tpubDF2rnouQaaYrXF4noGTv6rQYmx87cQ4GrUdhpvXkhtChwQPbdGTi8GA88NUaSrwZBwNsTkC9bFkkC8vDyGBVVAQTZ2AS6gs68RQXtXcCvkP";

    fn with_version(xpub: &Xpub, version: [u8; 4]) -> String {
        let mut data = xpub.encode().to_vec();
        data[..4].copy_from_slice(&version);
        base58::encode_check(&data)
    }

    #[test]
    fn slip132_keys_read_as_their_bip32_form() {
        let tpub: Xpub = TPUB_TEXT.parse().unwrap();
        for (version, main) in SLIP132 {
            let text = with_version(&tpub, version);
            let read = parse_xpub(&text).unwrap();
            assert_eq!(read.public_key, tpub.public_key);
            assert_eq!(read.chain_code, tpub.chain_code);
            let kind = if main {
                NetworkKind::Main
            } else {
                NetworkKind::Test
            };
            assert_eq!(read.network, kind, "{text}");
        }
        assert_eq!(parse_xpub(TPUB_TEXT).unwrap(), tpub);
        assert!(parse_xpub("tpubnonsense").is_err());
    }
}

//! The checks of a PSBT's fields that go beyond the key-value layout:
//! BIP-370's version fields and BIP-373's MuSig2 fields.

use super::*;

// MuSig2 fields (BIP-373). custodia's vaults use none, but checks their form
// as Bitcoin Core does, so a PSBT other wallets would refuse is refused here.
pub(super) const IN_MUSIG2_PARTICIPANT_PUBKEYS: u8 = 0x1a;
pub(super) const IN_MUSIG2_PUB_NONCE: u8 = 0x1b;
pub(super) const IN_MUSIG2_PARTIAL_SIG: u8 = 0x1c;
pub(super) const OUT_MUSIG2_PARTICIPANT_PUBKEYS: u8 = 0x08;

impl RawPsbt {
    /// BIP-373: MuSig2 keys and values have fixed sizes and hold valid
    /// compressed public keys.
    pub(super) fn check_musig2_fields(&self) -> Result<(), PsbtError> {
        for (i, m) in self.inputs.iter().enumerate() {
            for p in &m.0 {
                match p.key[0] {
                    IN_MUSIG2_PARTICIPANT_PUBKEYS => participant_pubkeys(p, "input", i)?,
                    IN_MUSIG2_PUB_NONCE => musig2_session_field(p, i, "public nonce", 66)?,
                    IN_MUSIG2_PARTIAL_SIG => musig2_session_field(p, i, "partial signature", 32)?,
                    _ => {}
                }
            }
        }
        for (i, m) in self.outputs.iter().enumerate() {
            for p in
                m.0.iter()
                    .filter(|p| p.key[0] == OUT_MUSIG2_PARTICIPANT_PUBKEYS)
            {
                participant_pubkeys(p, "output", i)?;
            }
        }
        Ok(())
    }

    /// BIP-370: v0 maps must not carry v2 fields, v2 maps must carry them.
    pub(super) fn check_version_fields(&self) -> Result<(), PsbtError> {
        let v2_in = [
            IN_PREVIOUS_TXID,
            IN_OUTPUT_INDEX,
            IN_SEQUENCE,
            IN_REQUIRED_TIME_LOCKTIME,
            IN_REQUIRED_HEIGHT_LOCKTIME,
        ];
        let v2_out = [OUT_AMOUNT, OUT_SCRIPT];
        if self.version == 0 {
            for (i, m) in self.inputs.iter().enumerate() {
                if let Some(t) = v2_in.iter().find(|t| m.has_type(**t)) {
                    return Err(PsbtError::Malformed(format!(
                        "input {i} of a version 0 PSBT carries version 2 field 0x{t:02x}"
                    )));
                }
            }
            for (i, m) in self.outputs.iter().enumerate() {
                if let Some(t) = v2_out.iter().find(|t| m.has_type(**t)) {
                    return Err(PsbtError::Malformed(format!(
                        "output {i} of a version 0 PSBT carries version 2 field 0x{t:02x}"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Whether `bytes` is a valid compressed public key.
fn is_compressed_pubkey(bytes: &[u8]) -> bool {
    bytes.len() == 33 && bitcoin::secp256k1::PublicKey::from_slice(bytes).is_ok()
}

/// A participant pubkeys field: the aggregate key in the key, the
/// participants' keys in the value.
fn participant_pubkeys(p: &Pair, map: &str, i: usize) -> Result<(), PsbtError> {
    let bad = |what: &str| {
        PsbtError::Malformed(format!(
            "{map} {i} has a MuSig2 participant pubkeys field whose {what}"
        ))
    };
    if !is_compressed_pubkey(&p.key[1..]) {
        return Err(bad("key is not a compressed aggregate public key"));
    }
    if !p.value.len().is_multiple_of(33) || !p.value.chunks(33).all(is_compressed_pubkey) {
        return Err(bad("value is not a list of compressed public keys"));
    }
    Ok(())
}

/// A public nonce or partial signature: the participant's and the aggregate
/// key (and, for a script path, a leaf hash) in the key, `value_len` bytes.
fn musig2_session_field(p: &Pair, i: usize, what: &str, value_len: usize) -> Result<(), PsbtError> {
    let bad = |why: &str| PsbtError::Malformed(format!("input {i} has a MuSig2 {what} {why}"));
    let keys = &p.key[1..];
    if keys.len() != 66 && keys.len() != 98 {
        return Err(bad(
            "whose key is not two public keys and an optional leaf hash",
        ));
    }
    if !is_compressed_pubkey(&keys[..33]) || !is_compressed_pubkey(&keys[33..66]) {
        return Err(bad("whose key holds an invalid public key"));
    }
    if p.value.len() != value_len {
        return Err(bad(&format!("that is not {value_len} bytes")));
    }
    Ok(())
}

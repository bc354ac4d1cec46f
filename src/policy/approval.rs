//! What an approver signs: a BIP-340 tagged hash, tag
//! `custodia/approval/v1`, over network magic ‖ vault name ‖ policy id ‖
//! unsigned txid ‖ movement code ‖ approver id (strings prefixed with their
//! compact-size length), so an approval means one movement of one
//! transaction of one vault on one network, by one approver. The txid
//! commits to every input and output: a changed amount, destination or fee
//! needs new approvals. The signer, the approver, the coordinator and the
//! auditor all verify an approval here.

use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::secp256k1::{schnorr, Message, Secp256k1};
use bitcoin::Txid;

use super::rules::Movement;
use super::{ApproverId, VaultPolicy};

/// The BIP-340 tag of approval digests.
pub const APPROVAL_TAG: &[u8] = b"custodia/approval/v1";

/// The digest an approver signs.
pub fn approval_digest(
    policy: &VaultPolicy,
    txid: Txid,
    movement: Movement,
    approver: &ApproverId,
) -> [u8; 32] {
    let tag = sha256::Hash::hash(APPROVAL_TAG);
    let mut engine = sha256::Hash::engine();
    engine.input(tag.as_byte_array());
    engine.input(tag.as_byte_array());
    engine.input(&policy.network().magic().to_bytes());
    // Strings carry their length as a Bitcoin compact size (one byte below
    // 253), so no two (name, id) pairs encode the same.
    let with_len = |engine: &mut sha256::HashEngine, bytes: &[u8]| {
        let len = bitcoin::consensus::encode::serialize(&bitcoin::VarInt(bytes.len() as u64));
        engine.input(&len);
        engine.input(bytes);
    };
    with_len(&mut engine, policy.name().as_bytes());
    engine.input(&policy.id().to_bytes());
    engine.input(txid.as_byte_array());
    engine.input(&[movement.code()]);
    with_len(&mut engine, approver.as_str().as_bytes());
    sha256::Hash::from_engine(engine).to_byte_array()
}

/// Whether `signature` is `approver`'s approval of `movement` of `txid`
/// under `policy`: the approver is in the policy and the signature verifies
/// with the approver's key there.
pub fn verify_approval(
    policy: &VaultPolicy,
    txid: Txid,
    movement: Movement,
    approver: &ApproverId,
    signature: &schnorr::Signature,
) -> bool {
    let Some(known) = policy.approver(approver) else {
        return false;
    };
    let digest = approval_digest(policy, txid, movement, approver);
    Secp256k1::verification_only()
        .verify_schnorr(signature, &Message::from_digest(digest), known.pubkey())
        .is_ok()
}

#[cfg(test)]
mod tests {
    use bitcoin::hashes::Hash;

    use super::*;
    use crate::policy::example as policy;

    #[test]
    fn digest_names_every_component() {
        let exchange = policy("regtest-exchange");
        let taproot = policy("regtest-taproot");
        let sato: ApproverId = "sato".parse().unwrap();
        let ito: ApproverId = "ito".parse().unwrap();
        let a = Txid::from_byte_array([1; 32]);
        let b = Txid::from_byte_array([2; 32]);
        let base = approval_digest(&exchange, a, Movement::ColdToHot, &sato);
        assert_eq!(
            base,
            approval_digest(&exchange, a, Movement::ColdToHot, &sato)
        );
        for other in [
            approval_digest(&taproot, a, Movement::ColdToHot, &sato),
            approval_digest(&exchange, b, Movement::ColdToHot, &sato),
            approval_digest(&exchange, a, Movement::HotToCold, &sato),
            approval_digest(&exchange, a, Movement::ColdToHot, &ito),
        ] {
            assert_ne!(base, other);
        }
    }

    /// A known answer, also in docs/psbt-fields.md, for other implementations.
    #[test]
    fn digest_known_answer() {
        let exchange = policy("regtest-exchange");
        assert_eq!(
            exchange.id().to_string(),
            "de9d168b8469712d6460ecfceb3316753a3e438baa67eee59acf44b81afbca38",
            "the example policy changed: update this vector and docs/psbt-fields.md"
        );
        let sato: ApproverId = "sato".parse().unwrap();
        let txid = Txid::from_byte_array([0x11; 32]);
        let digest = approval_digest(&exchange, txid, Movement::ColdToHot, &sato);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "4c660091fe21b4ae800f301b1487b949361cfb91128991e9971c8938f587ce20"
        );
    }
}

//! Known-answer tests the signer runs before a key is touched, as hardware
//! security modules run their power-on self-tests: BIP-32 derivation,
//! BIP-340 signing and verification, an ECDSA signature over a BIP-143
//! sighash, the approval digest, and an scrypt/age round trip. A binary
//! that computes a wrong answer (a miscompiled or altered build, a broken
//! machine) refuses to sign or approve.
//!
//! The vectors are published ones (BIP-32 test vector 1, BIP-340 test
//! vector 0, BIP-143's native P2WPKH example) or custodia's own documented
//! one (the approval digest in docs/psbt-fields.md). The whole run takes a
//! few milliseconds; the scrypt round trip uses a small work factor, since it
//! checks the code path, not the strength.

use std::str::FromStr;
use std::time::Instant;

use bitcoin::bip32::{DerivationPath, Xpriv, Xpub};
use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{ecdsa, schnorr, Keypair, Message, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{Amount, Network, ScriptBuf, Transaction, Txid, WPubkeyHash};
use serde::Serialize;

use crate::error::{Classify, ExitCode};
use crate::policy::approval::approval_digest;
use crate::policy::rules::Movement;
use crate::policy::{ApproverId, VaultPolicy};
use crate::signer::keystore::Passphrase;

/// One known-answer test.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What it checks.
    pub name: &'static str,
    /// Whether the answer was the known one.
    pub passed: bool,
}

/// The result of every check, and how long they took.
#[derive(Debug, Clone, Serialize)]
pub struct SelfTestReport {
    /// Each check, in the order run.
    pub checks: Vec<Check>,
    /// Milliseconds for all of them.
    pub millis: f64,
}

impl SelfTestReport {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// Lines for people.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for c in &self.checks {
            let mark = if c.passed { "PASS" } else { "FAIL" };
            s.push_str(&format!("{mark}  {}\n", c.name));
        }
        s.push_str(&format!(
            "{} in {:.1} ms\n",
            if self.passed() {
                "self-test passed"
            } else {
                "SELF-TEST FAILED"
            },
            self.millis
        ));
        s
    }

    /// `Ok` if every check passed, else the typed failure.
    pub fn require(self) -> Result<(), SelfTestFailed> {
        let failed: Vec<&'static str> = self
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name)
            .collect();
        match failed.is_empty() {
            true => Ok(()),
            false => Err(SelfTestFailed(failed)),
        }
    }
}

/// Known-answer tests that failed: this binary or machine computes wrong
/// results, and must not hold a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the self-test failed ({}): this binary or this machine computes wrong results; nothing was signed. Do not use it: rebuild the signer and compare its hash (docs/signer.md, \"Verify your binary\")", .0.join(", "))]
pub struct SelfTestFailed(pub Vec<&'static str>);

impl Classify for SelfTestFailed {
    fn exit_code(&self) -> ExitCode {
        ExitCode::NodeOrIo
    }
}

/// A check's name and the test that gives the known answer.
type KnownAnswer = (&'static str, fn() -> bool);

/// Runs every known-answer test.
pub fn run() -> SelfTestReport {
    let start = Instant::now();
    let tests: [KnownAnswer; 5] = [
        ("BIP-32 derivation (BIP-32 test vector 1)", bip32),
        (
            "BIP-340 signing and verification (BIP-340 vector 0)",
            bip340,
        ),
        (
            "ECDSA over a BIP-143 sighash (BIP-143 P2WPKH example)",
            ecdsa_sighash,
        ),
        ("approval digest (docs/psbt-fields.md)", approval),
        ("scrypt/age passphrase round trip", scrypt_age),
    ];
    let checks = tests
        .into_iter()
        .map(|(name, test)| Check {
            name,
            passed: test() && !broken(name),
        })
        .collect();
    SelfTestReport {
        checks,
        millis: start.elapsed().as_secs_f64() * 1e3,
    }
}

/// Runs the self-test and refuses on any failure: called before a key is
/// unlocked.
pub fn require() -> Result<(), SelfTestFailed> {
    run().require()
}

/// Fault injection for tests of the failure path: in debug builds only,
/// `CUSTODIA_SELFTEST_BREAK` set to the start of a check's name fails that
/// check. A release build has no way to fake a failure or a pass.
#[cfg(debug_assertions)]
fn broken(name: &str) -> bool {
    std::env::var("CUSTODIA_SELFTEST_BREAK").is_ok_and(|b| !b.is_empty() && name.starts_with(&b))
}

#[cfg(not(debug_assertions))]
fn broken(_name: &str) -> bool {
    false
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap_or(0))
        .collect()
}

fn bip32() -> bool {
    let secp = Secp256k1::new();
    let Ok(master) = Xpriv::new_master(Network::Bitcoin, &hex("000102030405060708090a0b0c0d0e0f"))
    else {
        return false;
    };
    let Ok(path) = DerivationPath::from_str("m/0'/1/2'/2/1000000000") else {
        return false;
    };
    let Ok(child) = master.derive_priv(&secp, &path) else {
        return false;
    };
    child.to_string() == "xprvA41z7zogVVwxVSgdKUHDy1SKmdb533PjDz7J6N6mV6uS3ze1ai8FHa8kmHScGpWmj4WggLyQjgPie1rFSruoUihUZREPSL39UNdE3BBDu76"
        && Xpub::from_priv(&secp, &child).to_string() == "xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy"
}

fn bip340() -> bool {
    let secp = Secp256k1::new();
    let Ok(secret) = SecretKey::from_slice(&hex(
        "0000000000000000000000000000000000000000000000000000000000000003",
    )) else {
        return false;
    };
    let keypair = Keypair::from_secret_key(&secp, &secret);
    let msg = Message::from_digest([0; 32]);
    let sig = secp.sign_schnorr_with_aux_rand(&msg, &keypair, &[0; 32]);
    let Ok(expected) = schnorr::Signature::from_slice(&hex("e907831f80848d1069a5371b402410364bdf1c5f8307b0084c55f1ce2dca821525f66a4a85ea8b71e482a74f382d2ce5ebeee8fdb2172f477df4900d310536c0")) else {
        return false;
    };
    let (xonly, _) = keypair.x_only_public_key();
    sig == expected
        && xonly.to_string() == "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
        && secp.verify_schnorr(&sig, &msg, &xonly).is_ok()
        && secp
            .verify_schnorr(&sig, &Message::from_digest([1; 32]), &xonly)
            .is_err()
}

fn ecdsa_sighash() -> bool {
    // BIP-143, native P2WPKH: the second input spends 6 BTC to a P2WPKH
    // output of the key below.
    let unsigned = "0100000002fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f0000000000eeffffffef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206000000001976a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42dbee7e4dbe6a21b2d50ce2f0167faa815988ac11000000";
    let Ok(tx) = bitcoin::consensus::deserialize::<Transaction>(&hex(unsigned)) else {
        return false;
    };
    let Ok(hash) = WPubkeyHash::from_slice(&hex("1d0f172a0ecb48aee1be1f2687d2963ae33f71a1")) else {
        return false;
    };
    let script = ScriptBuf::new_p2wpkh(&hash);
    let Ok(sighash) = SighashCache::new(&tx).p2wpkh_signature_hash(
        1,
        &script,
        Amount::from_sat(600_000_000),
        EcdsaSighashType::All,
    ) else {
        return false;
    };
    if sighash.to_byte_array().to_vec()
        != hex("c37af31116d1b27caf68aae9e3ac82f1477929014d5b917657d0eb49478cb670")
    {
        return false;
    }
    let secp = Secp256k1::new();
    let Ok(secret) = SecretKey::from_slice(&hex(
        "619c335025c7f4012e556c2a58b2506e30b8511b53ade95ea316fd8c3286feb9",
    )) else {
        return false;
    };
    let msg = Message::from_digest(sighash.to_byte_array());
    let sig = secp.sign_ecdsa(&msg, &secret);
    let Ok(expected) = ecdsa::Signature::from_der(&hex("304402203609e17b84f6a7d30c80bfa610b5b4542f32a8a0d5447a12fb1366d7f01cc44a0220573a954c4518331561406f90300e8f3358f51928d43c212a8caed02de67eebee")) else {
        return false;
    };
    sig == expected
        && secp
            .verify_ecdsa(&msg, &sig, &secret.public_key(&secp))
            .is_ok()
}

fn approval() -> bool {
    const EXAMPLE: &str = include_str!("../../policies/regtest-exchange.toml");
    let Ok(policy) = VaultPolicy::from_toml(EXAMPLE) else {
        return false;
    };
    let Ok(sato) = ApproverId::from_str("sato") else {
        return false;
    };
    let digest = approval_digest(
        &policy,
        Txid::from_byte_array([0x11; 32]),
        Movement::ColdToHot,
        &sato,
    );
    policy.id().to_string() == "de9d168b8469712d6460ecfceb3316753a3e438baa67eee59acf44b81afbca38"
        && digest.to_vec()
            == hex("4c660091fe21b4ae800f301b1487b949361cfb91128991e9971c8938f587ce20")
}

fn scrypt_age() -> bool {
    use crate::signer::keystore::crypt::{open_with_passphrase, seal_with_passphrase_at};
    let pass = Passphrase::new("custodia self-test");
    let plain = b"abandon abandon abandon abandon abandon about";
    let Ok(sealed) = seal_with_passphrase_at(plain, &pass, 10) else {
        return false;
    };
    let here = std::path::Path::new("self-test");
    let opened = open_with_passphrase(&sealed, &pass, here);
    let wrong = open_with_passphrase(&sealed, &Passphrase::new("another"), here);
    matches!(opened, Ok(p) if p.as_slice() == plain) && wrong.is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_answer_passes() {
        let report = run();
        assert!(report.passed(), "{}", report.to_text());
        assert_eq!(report.checks.len(), 5);
        report.require().unwrap();
    }

    #[test]
    fn a_failed_check_is_named_and_refuses() {
        let report = SelfTestReport {
            checks: vec![
                Check {
                    name: "a",
                    passed: true,
                },
                Check {
                    name: "b",
                    passed: false,
                },
            ],
            millis: 1.0,
        };
        assert!(report.to_text().contains("FAIL  b"));
        let err = report.require().unwrap_err();
        assert_eq!(err.0, vec!["b"]);
        assert_eq!(err.exit_code(), ExitCode::NodeOrIo);
    }
}

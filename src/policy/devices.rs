//! Keys held on signing devices (`signer = "device"`): hardware wallets that
//! sign what their holder confirms and enforce none of the policy's rules.
//! The rules hold at the keys only as long as every quorum still needs a
//! custodia signer; this module says, per signing path, how many.

use serde::Serialize;

use super::keys::KeySigner;
use super::wallet::Tier;
use super::{KeyId, VaultPolicy};

/// Which of a wallet's signing paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SigningPath {
    /// The wallet's quorum.
    Main,
    /// Its timelocked recovery path.
    Recovery,
}

/// One signing path that has device keys, and how many custodia signers
/// every quorum of it still needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceExposure {
    /// The wallet.
    pub tier: Tier,
    /// The path.
    pub path: SigningPath,
    /// Signatures the path needs.
    pub threshold: usize,
    /// Keys the path uses.
    pub keys: usize,
    /// The path's keys held on devices.
    pub devices: Vec<KeyId>,
    /// Custodia signers in every quorum of the path: 0 when devices alone
    /// make one, and then nothing enforces the policy at a key.
    pub custodia_needed: usize,
}

impl DeviceExposure {
    /// Whether device keys alone make a quorum of this path.
    pub fn devices_alone_suffice(&self) -> bool {
        self.custodia_needed == 0
    }

    /// The warning, in words.
    pub fn to_text(&self) -> String {
        let path = match self.path {
            SigningPath::Main => format!("{} wallet", self.tier),
            SigningPath::Recovery => format!("{} recovery path", self.tier),
        };
        let names = self
            .devices
            .iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let quorum = format!("{}-of-{}", self.threshold, self.keys);
        match self.custodia_needed {
            0 => format!(
                "{path} ({quorum}): the devices {names} alone make a quorum, and a device enforces no allowlist, limit or approval: nothing enforces this policy at a key"
            ),
            n => format!(
                "{path} ({quorum}): {names} sign on devices that enforce no allowlist, limit or approval; every quorum still needs {n} custodia signer{}, so the rules hold at the keys",
                if n == 1 { "" } else { "s" }
            ),
        }
    }
}

impl VaultPolicy {
    /// Every signing path with keys held on devices, cold then hot, each
    /// wallet's quorum before its recovery path.
    pub fn device_exposures(&self) -> Vec<DeviceExposure> {
        let mut out = Vec::new();
        for tier in Tier::ALL {
            let wallet = self.wallet(tier);
            let mut paths = vec![(SigningPath::Main, wallet.threshold(), wallet.keys())];
            if let Some(r) = wallet.recovery() {
                paths.push((SigningPath::Recovery, r.threshold(), r.keys()));
            }
            for (path, threshold, keys) in paths {
                let devices: Vec<KeyId> = keys
                    .iter()
                    .filter(|k| self.key(k).map(|k| k.signer()) == Some(KeySigner::Device))
                    .cloned()
                    .collect();
                if devices.is_empty() {
                    continue;
                }
                out.push(DeviceExposure {
                    tier,
                    path,
                    threshold,
                    keys: keys.len(),
                    custodia_needed: threshold.saturating_sub(devices.len()),
                    devices,
                });
            }
        }
        out
    }

    /// The warnings of [`VaultPolicy::device_exposures`], in words: what
    /// `policy show`, `init` and `register` print.
    pub fn device_warnings(&self) -> Vec<String> {
        self.device_exposures()
            .iter()
            .map(DeviceExposure::to_text)
            .collect()
    }

    /// Refuses a policy whose device keys alone make a quorum on any
    /// signing path, unless `understood` (the operator's
    /// `--i-understand-devices-enforce-nothing`).
    pub fn check_devices(&self, understood: bool) -> Result<(), DevicesAloneError> {
        let alone: Vec<DeviceExposure> = self
            .device_exposures()
            .into_iter()
            .filter(DeviceExposure::devices_alone_suffice)
            .collect();
        match alone.is_empty() || understood {
            true => Ok(()),
            false => Err(DevicesAloneError(alone)),
        }
    }
}

/// A policy in which devices alone make a quorum, refused unless the
/// operator says `--i-understand-devices-enforce-nothing`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}; give every quorum at least one custodia signer (fewer device keys, or a higher threshold), or pass --i-understand-devices-enforce-nothing", .0.iter().map(DeviceExposure::to_text).collect::<Vec<_>>().join("; "))]
pub struct DevicesAloneError(pub Vec<DeviceExposure>);

impl crate::error::Classify for DevicesAloneError {
    fn exit_code(&self) -> crate::error::ExitCode {
        crate::error::ExitCode::BadInput
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::example;

    /// The example exchange vault with `devices` marked as device keys.
    fn with_devices(devices: &[&str]) -> VaultPolicy {
        let mut text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/policies/regtest-exchange.toml"
        ))
        .unwrap();
        for id in devices {
            let entry = format!("id = \"{id}\"\n");
            text = text.replace(&entry, &format!("{entry}signer = \"device\"\n"));
        }
        VaultPolicy::from_toml(&text).unwrap()
    }

    #[test]
    fn a_policy_without_devices_keeps_its_id() {
        let plain = example("regtest-exchange");
        assert!(plain.device_exposures().is_empty());
        assert_eq!(with_devices(&[]).id(), plain.id());
        // Writing the default out loud changes nothing either.
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/policies/regtest-exchange.toml"
        ))
        .unwrap()
        .replace(
            "id = \"hot-1\"\n",
            "id = \"hot-1\"\nsigner = \"custodia\"\n",
        );
        assert_eq!(VaultPolicy::from_toml(&text).unwrap().id(), plain.id());
    }

    #[test]
    fn a_device_key_is_part_of_the_policy_id_and_round_trips() {
        let policy = with_devices(&["hot-2"]);
        assert_ne!(policy.id(), example("regtest-exchange").id());
        let again = VaultPolicy::from_toml(&policy.to_toml()).unwrap();
        assert_eq!(again.id(), policy.id());
        assert_eq!(
            again.key(&"hot-2".parse().unwrap()).unwrap().signer(),
            KeySigner::Device
        );
    }

    #[test]
    fn says_how_many_custodia_signers_every_quorum_needs() {
        let policy = with_devices(&["hot-2", "cold-1"]);
        let exposures = policy.device_exposures();
        assert_eq!(exposures.len(), 2);
        assert_eq!(exposures[0].tier, Tier::Cold);
        assert_eq!(exposures[0].custodia_needed, 2, "3-of-5, one device");
        assert_eq!(exposures[1].tier, Tier::Hot);
        assert_eq!(exposures[1].custodia_needed, 1, "2-of-3, one device");
        assert!(exposures[1]
            .to_text()
            .contains("every quorum still needs 1 custodia signer"));
        policy.check_devices(false).unwrap();
    }

    #[test]
    fn devices_alone_making_a_quorum_is_refused_unless_understood() {
        let policy = with_devices(&["hot-2", "hot-3"]);
        let err = policy.check_devices(false).unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert!(err.0[0].devices_alone_suffice());
        assert!(err
            .to_string()
            .contains("--i-understand-devices-enforce-nothing"));
        policy.check_devices(true).unwrap();
    }

    #[test]
    fn an_unknown_signer_is_refused() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/policies/regtest-exchange.toml"
        ))
        .unwrap()
        .replace("id = \"hot-1\"\n", "id = \"hot-1\"\nsigner = \"ledger\"\n");
        let err = VaultPolicy::from_toml(&text).unwrap_err();
        assert!(err.to_string().contains("unknown signer `ledger`"), "{err}");
    }
}

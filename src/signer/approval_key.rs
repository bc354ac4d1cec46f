//! Approval keys: BIP-340 keys an approver signs movements with. They are not
//! wallet keys and can move no coins; they are stored like the seed, encrypted
//! under a passphrase, in `approvers/<id>.age`, with the public key beside it
//! in `approvers/<id>.json`.

use std::path::{Path, PathBuf};

use bitcoin::secp256k1::{schnorr, Keypair, Message, Secp256k1, SecretKey, XOnlyPublicKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::audit::utc_timestamp;
use crate::audit::{ApprovalKeyStored, Event};
use crate::policy::ApproverId;
use crate::signer::keystore::{
    check_private_file, open_with_passphrase, read_private, read_private_secret,
    seal_with_passphrase, KeyStoreError, Passphrase, SignerHome,
};
use crate::transport::{write_atomically, write_new_atomically, FileError};

/// An unlocked approval key. No `Debug`; the secret is erased on drop.
pub struct ApprovalKey {
    id: ApproverId,
    keypair: Keypair,
}

impl ApprovalKey {
    /// The approver id it is stored under.
    pub fn id(&self) -> &ApproverId {
        &self.id
    }

    /// The key pair, for BIP-340 signing inside the library only.
    pub(crate) fn keypair(&self) -> &Keypair {
        &self.keypair
    }

    /// The x-only public key, as in the policy's `[[approvers]]`.
    pub fn x_only_public_key(&self) -> XOnlyPublicKey {
        self.keypair.x_only_public_key().0
    }

    /// A BIP-340 signature over `msg` (with fresh auxiliary randomness).
    pub fn sign(&self, msg: &Message) -> schnorr::Signature {
        Secp256k1::signing_only().sign_schnorr(msg, &self.keypair)
    }
}

impl Drop for ApprovalKey {
    fn drop(&mut self) {
        self.keypair.non_secure_erase();
    }
}

/// How an approval key came to this signer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApproverOrigin {
    /// Generated here from the CSPRNG (`approver init`).
    Generated,
    /// Imported from a secret (`approver import`; migration and tests).
    Imported,
}

/// `approvers/<id>.json`: the public half of a stored approval key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproverInfo {
    /// Approver id.
    pub id: ApproverId,
    /// x-only public key (hex), for the policy's `[[approvers]]`.
    pub pubkey: XOnlyPublicKey,
    /// Generated or imported.
    pub origin: ApproverOrigin,
    /// Unix time of creation.
    pub created_unix: u64,
    /// The same, for people.
    pub created: String,
}

impl ApproverInfo {
    /// The `[[approvers]]` entry for a policy (the department is the policy
    /// writer's to fill in).
    pub fn policy_snippet(&self) -> String {
        format!(
            "[[approvers]]\nid = \"{}\"\ndepartment = \"...\"\npubkey = \"{}\"\n",
            self.id, self.pubkey
        )
    }

    /// One line for `approver list`.
    pub fn to_line(&self) -> String {
        let origin = match self.origin {
            ApproverOrigin::Generated => "generated",
            ApproverOrigin::Imported => "imported",
        };
        format!(
            "{:<16} {} ({origin}, {})",
            self.id, self.pubkey, self.created
        )
    }
}

/// A secret approval key read from a hex file, for `approver import`.
pub struct ApproverSecret(SecretKey);

impl ApproverSecret {
    /// Reads 64 hex characters (first line) from a file that only its owner can read.
    pub fn from_file(path: &Path) -> Result<Self, KeyStoreError> {
        let bytes = read_private_secret(path)?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| KeyStoreError::BadSecret("the file is not text".into()))?;
        Self::from_hex(text.lines().next().unwrap_or("").trim())
    }

    /// Parses 64 hex characters.
    pub fn from_hex(hex: &str) -> Result<Self, KeyStoreError> {
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(KeyStoreError::BadSecret(format!(
                "{} characters",
                hex.len()
            )));
        }
        let mut raw = Zeroizing::new([0u8; 32]);
        for (i, byte) in raw.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("checked hex");
        }
        SecretKey::from_slice(&*raw)
            .map(ApproverSecret)
            .map_err(|_| KeyStoreError::BadSecret("not a valid secp256k1 secret key".into()))
    }
}

impl ApproverSecret {
    /// The secret of an unlocked approval key (for a backup).
    pub(crate) fn of(key: &ApprovalKey) -> ApproverSecret {
        ApproverSecret(key.keypair.secret_key())
    }

    /// The 64 hex characters (for a backup's plaintext).
    pub(crate) fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(self.0.display_secret().to_string())
    }

    /// Its BIP-340 public key.
    pub(crate) fn x_only_public_key(&self) -> XOnlyPublicKey {
        self.0.x_only_public_key(&Secp256k1::signing_only()).0
    }

    /// A second copy, erased on drop like the first.
    pub(crate) fn clone_secret(&self) -> ApproverSecret {
        ApproverSecret(self.0)
    }
}

impl Drop for ApproverSecret {
    fn drop(&mut self) {
        self.0.non_secure_erase();
    }
}

impl SignerHome {
    fn approver_paths(&self, id: &ApproverId) -> (PathBuf, PathBuf) {
        let dir = self.approvers_dir();
        (
            dir.join(format!("{id}.age")),
            dir.join(format!("{id}.json")),
        )
    }

    /// Generates a new approval key from the OS CSPRNG and stores it under
    /// `passphrase`.
    pub fn approver_init(
        &self,
        id: &ApproverId,
        passphrase: &Passphrase,
    ) -> Result<ApproverInfo, KeyStoreError> {
        let secret = SecretKey::new(&mut bitcoin::secp256k1::rand::rngs::OsRng);
        self.store_approver(
            id,
            ApproverSecret(secret),
            passphrase,
            ApproverOrigin::Generated,
        )
    }

    /// Stores an existing approval key secret under `passphrase`. Meant for
    /// migrating a key and for the public test keys; a new approver should use
    /// [`SignerHome::approver_init`].
    pub fn approver_import(
        &self,
        id: &ApproverId,
        secret: ApproverSecret,
        passphrase: &Passphrase,
    ) -> Result<ApproverInfo, KeyStoreError> {
        self.store_approver(id, secret, passphrase, ApproverOrigin::Imported)
    }

    fn store_approver(
        &self,
        id: &ApproverId,
        secret: ApproverSecret,
        passphrase: &Passphrase,
        origin: ApproverOrigin,
    ) -> Result<ApproverInfo, KeyStoreError> {
        self.subdir(self.approvers_dir())?;
        let (secret_path, info_path) = self.approver_paths(id);
        if secret_path.exists() || info_path.exists() {
            return Err(KeyStoreError::ApproverExists(id.clone()));
        }
        let secp = Secp256k1::signing_only();
        let pubkey = secret.0.x_only_public_key(&secp).0;
        let hex = Zeroizing::new(secret.0.display_secret().to_string());
        let sealed = seal_with_passphrase(hex.as_bytes(), passphrase)?;
        write_new_atomically(&secret_path, &sealed).map_err(|e| match e {
            FileError::Exists(_) => KeyStoreError::ApproverExists(id.clone()),
            other => other.into(),
        })?;
        let now = crate::audit::now_unix();
        let info = ApproverInfo {
            id: id.clone(),
            pubkey,
            origin,
            created_unix: now,
            created: utc_timestamp(now),
        };
        let text = serde_json::to_string_pretty(&info).expect("approver info serializes") + "\n";
        write_atomically(&info_path, text.as_bytes())?;
        let stored = ApprovalKeyStored {
            approver: id.clone(),
            pubkey: pubkey.to_string(),
        };
        self.log().append(&match origin {
            ApproverOrigin::Generated => Event::ApproverInit(stored),
            ApproverOrigin::Imported => Event::ApproverImport(stored),
        })?;
        Ok(info)
    }

    /// The public record of one stored approval key.
    pub fn approver_info(&self, id: &ApproverId) -> Result<Option<ApproverInfo>, KeyStoreError> {
        let (_, info_path) = self.approver_paths(id);
        let Some(bytes) = read_private(&info_path)? else {
            return Ok(None);
        };
        let info: ApproverInfo = serde_json::from_slice(&bytes)
            .map_err(|e| KeyStoreError::corrupt(&info_path, e.to_string()))?;
        if &info.id != id {
            return Err(KeyStoreError::corrupt(
                &info_path,
                format!("it names approver `{}`", info.id),
            ));
        }
        Ok(Some(info))
    }

    /// Every approval key stored here, by id.
    pub fn approvers(&self) -> Result<Vec<ApproverInfo>, KeyStoreError> {
        let dir = self.approvers_dir();
        check_private_file(&dir)?;
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(KeyStoreError::io(dir, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| KeyStoreError::io(&dir, e))?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let Some(id) = path
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<ApproverId>().ok())
            else {
                continue;
            };
            if let Some(info) = self.approver_info(&id)? {
                out.push(info);
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Decrypts an approval key and checks it against its public record.
    pub fn unlock_approver(
        &self,
        id: &ApproverId,
        passphrase: &Passphrase,
    ) -> Result<ApprovalKey, KeyStoreError> {
        let (secret_path, info_path) = self.approver_paths(id);
        let cipher = read_private(&secret_path)?.ok_or_else(|| KeyStoreError::NoApprover {
            id: id.clone(),
            dir: self.approvers_dir(),
        })?;
        let plain = open_with_passphrase(&cipher, passphrase, &secret_path)?;
        let text = std::str::from_utf8(&plain)
            .map_err(|_| KeyStoreError::corrupt(&secret_path, "the content is not text"))?;
        let secret = ApproverSecret::from_hex(text.trim())
            .map_err(|e| KeyStoreError::corrupt(&secret_path, e.to_string()))?;
        let keypair = Keypair::from_secret_key(&Secp256k1::signing_only(), &secret.0);
        let key = ApprovalKey {
            id: id.clone(),
            keypair,
        };
        match self.approver_info(id)? {
            Some(info) if info.pubkey == key.x_only_public_key() => Ok(key),
            Some(info) => Err(KeyStoreError::corrupt(
                &info_path,
                format!(
                    "it records public key {} but the secret key is for {}",
                    info.pubkey,
                    key.x_only_public_key()
                ),
            )),
            None => Err(KeyStoreError::corrupt(&info_path, "the file is missing")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SATO_SECRET: &str = "c37131369f9da9d25a097fac8a5b631959816235c478192216d4726aa6388ec0";
    const SATO_PUBKEY: &str = "3decf57dc91cf418f23c2f52e2f7b4b60c83d8b4c3ce4ac2f520bdfaeaace30a";

    #[test]
    fn import_unlock_sign() {
        let tmp = tempfile::tempdir().unwrap();
        let home = SignerHome::open(Some(tmp.path().join("signer"))).unwrap();
        let pass = Passphrase::new("approver passphrase");
        let id: ApproverId = "sato".parse().unwrap();
        let info = home
            .approver_import(&id, ApproverSecret::from_hex(SATO_SECRET).unwrap(), &pass)
            .unwrap();
        assert_eq!(info.pubkey.to_string(), SATO_PUBKEY);
        assert!(matches!(
            home.approver_import(&id, ApproverSecret::from_hex(SATO_SECRET).unwrap(), &pass),
            Err(KeyStoreError::ApproverExists(_))
        ));
        let key = home.unlock_approver(&id, &pass).unwrap();
        let msg = Message::from_digest([7; 32]);
        let sig = key.sign(&msg);
        Secp256k1::verification_only()
            .verify_schnorr(&sig, &msg, &key.x_only_public_key())
            .unwrap();
        assert!(matches!(
            home.unlock_approver(&id, &Passphrase::new("wrong passphrase")),
            Err(KeyStoreError::WrongPassphrase(_))
        ));
        let fresh: ApproverId = "ito2".parse().unwrap();
        home.approver_init(&fresh, &pass).unwrap();
        let ids: Vec<String> = home
            .approvers()
            .unwrap()
            .iter()
            .map(|a| a.id.to_string())
            .collect();
        assert_eq!(ids, ["ito2", "sato"]);
    }

    #[test]
    fn bad_secrets_are_refused() {
        assert!(ApproverSecret::from_hex("abcd").is_err());
        assert!(ApproverSecret::from_hex(&"0".repeat(64)).is_err());
        assert!(ApproverSecret::from_hex(&"zz".repeat(32)).is_err());
    }
}

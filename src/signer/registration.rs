//! `register`: adopting a vault policy on this laptop, as one sequence —
//! show what changes, derive this seed's keys again when the policy names
//! one, confirm, record. The program supplies the prompts.

use crate::error::{Classify, ExitCode};
use crate::policy::update::PolicyUpdate;
use crate::policy::{DevicesAloneError, PolicyError, PolicyId, VaultPolicy};
use crate::signer::cli::RegisterArgs;
use crate::signer::registry::{approved_change, RegistrationStatus, SameVault};
use crate::signer::signing::session::Prompts;
use crate::signer::{KeyStoreError, RegistryError, SignerHome};
use crate::transport::qr::{self, QrError};

/// Why a policy was not registered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The policy file.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The registry refused it.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Unlocking the seed to check its keys.
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
    /// Asking for confirmation failed.
    #[error("cannot ask for confirmation: {0}; pass --yes in scripts")]
    Prompt(std::io::Error),
    /// Reading the policy from QR frames.
    #[error(transparent)]
    Qr(#[from] QrError),
    /// Devices alone make a quorum of the policy.
    #[error(transparent)]
    DevicesAlone(#[from] DevicesAloneError),
}

/// The policy to register: from its file, or else from QR frames.
pub fn load_policy(
    file: Option<&std::path::Path>,
    frames: &[std::path::PathBuf],
) -> Result<VaultPolicy, RegistrationError> {
    Ok(match file {
        Some(path) => VaultPolicy::load(path)?,
        None => VaultPolicy::from_toml(&qr::read_text(frames)?)?,
    })
}

impl Classify for RegistrationError {
    fn exit_code(&self) -> ExitCode {
        match self {
            RegistrationError::Policy(e) => e.exit_code(),
            RegistrationError::Registry(e) => e.exit_code(),
            RegistrationError::KeyStore(e) => e.exit_code(),
            RegistrationError::Prompt(_) => ExitCode::NodeOrIo,
            RegistrationError::Qr(e) => e.exit_code(),
            RegistrationError::DevicesAlone(e) => e.exit_code(),
        }
    }
}

/// A policy newly registered (or replacing the vault's previous one).
#[derive(Debug, Clone)]
pub struct Registered {
    /// Its id.
    pub policy_id: PolicyId,
    /// Its vault.
    pub vault: String,
}

impl Registered {
    /// One line for people.
    pub fn to_text(&self) -> String {
        format!(
            "registered policy {} for vault {}\n",
            self.policy_id, self.vault
        )
    }
}

/// Registers the policy of `args`, or returns `None` when exactly it is
/// registered already. A new policy of a registered vault needs `replace`
/// (and, when the registered policy governs its changes, an approved
/// update); without `yes` the person confirms after seeing what the policy
/// gives this laptop.
pub fn register(
    home: &SignerHome,
    args: &RegisterArgs,
    prompts: &mut impl Prompts,
) -> Result<Option<Registered>, RegistrationError> {
    let policy = load_policy(args.policy.as_deref(), &args.qr.qr_in)?;
    policy.check_devices(args.i_understand_devices_enforce_nothing)?;
    let update = match &args.update {
        Some(path) => Some(PolicyUpdate::read(path).map_err(RegistryError::from)?),
        None => None,
    };
    let reg = home.prepare_registration(policy)?;
    prompts.inform(&reg.to_text());
    let same_vault = match (args.replace, args.successor) {
        (true, _) => SameVault::Replace,
        (_, true) => SameVault::Successor,
        _ => SameVault::Refuse,
    };
    match &reg.status {
        RegistrationStatus::AlreadyRegistered => {
            // A policy registered before address key tables existed, or
            // whose table was damaged, gets its table now.
            if home.make_address_keys(&reg.policy)? {
                prompts.inform("its address key table was missing or damaged: made anew\n");
            }
            return Ok(None);
        }
        RegistrationStatus::Replaces { old, .. } if same_vault == SameVault::Refuse => {
            return Err(RegistryError::NeedsReplace {
                vault: reg.policy.name().to_owned(),
                old: old.id(),
                new: reg.policy.id(),
            }
            .into())
        }
        // Refused before anyone types a passphrase: the change lacks its
        // approvals.
        RegistrationStatus::Replaces { old, .. } => {
            if let Some(approved) = approved_change(old, &reg.policy, update.as_ref())? {
                prompts.inform(&format!(
                    "the change is approved by {}\n",
                    approved_by(approved.approvers())
                ));
            }
        }
        RegistrationStatus::New => {}
    }
    // The keys the policy gives this seed are derived again before anyone
    // confirms: a policy naming a key this seed does not derive is refused.
    let seed = match reg.needs_seed() {
        true => Some(home.unlock_seed(&prompts.passphrase()?)?),
        false => None,
    };
    if let Some(seed) = &seed {
        home.check_own_keys(&reg.policy, seed)?;
    }
    if !args.yes
        && !prompts
            .confirm("Register this policy?")
            .map_err(RegistrationError::Prompt)?
    {
        return Err(RegistryError::NotConfirmed.into());
    }
    home.register(&reg, same_vault, update.as_ref(), seed.as_ref())?;
    Ok(Some(Registered {
        policy_id: reg.policy.id(),
        vault: reg.policy.name().to_owned(),
    }))
}

fn approved_by(approvers: &[crate::policy::ApproverId]) -> String {
    match approvers {
        [] => "nobody (the registered policy does not govern its changes)".into(),
        list => list
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

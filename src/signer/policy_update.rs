//! `approve-update`: an approver of the vault's registered policy approves
//! a successor policy, after seeing exactly what changes. The approval goes
//! into a policy update file that key holders give to `register --replace
//! --update` and the coordinator to `policy announce`.

use std::path::PathBuf;

use bitcoin::secp256k1::Message;
use serde::Serialize;

use super::cli::ApproveUpdateArgs;
use super::registration::{load_policy, RegistrationError};
use super::signing::session::Prompts;
use super::{KeyStoreError, RegistryError, SignerHome};
use crate::audit::{Event, UpdateApproved};
use crate::policy::diff::{diff_lines, render_diff};
use crate::policy::update::{update_digest, PolicyUpdate, UpdateApproval};
use crate::policy::{ApproverId, PolicyId};
use crate::transport::{write_new_atomically, FileError};

/// What `approve-update` did.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateApprovalReport {
    /// The policy in force.
    pub old_policy_id: PolicyId,
    /// The successor approved.
    pub new_policy_id: PolicyId,
    /// Every approver the written update carries.
    pub approvers: Vec<ApproverId>,
    /// The file written.
    pub output: PathBuf,
}

impl UpdateApprovalReport {
    /// Lines for people.
    pub fn to_text(&self) -> String {
        let list: Vec<&str> = self.approvers.iter().map(|a| a.as_str()).collect();
        format!(
            "approved the change of policy {} into {}; the update now carries {}\nwrote {}\n",
            self.old_policy_id.short(),
            self.new_policy_id.short(),
            list.join(", "),
            self.output.display()
        )
    }
}

/// Approves the successor policy of `args` as `args.approver`: shows the
/// change against the registered policy of the same vault, confirms, signs
/// with the approval key, logs, and writes the update.
pub fn approve_update(
    home: &SignerHome,
    args: &ApproveUpdateArgs,
    prompts: &mut impl Prompts,
) -> Result<UpdateApprovalReport, RegistrationError> {
    if args.output.exists() {
        return Err(KeyStoreError::from(FileError::Exists(args.output.clone())).into());
    }
    let new = load_policy(Some(&args.policy), &[])?;
    let old = home
        .registered_policies()?
        .into_iter()
        .find(|p| p.name() == new.name())
        .ok_or_else(|| RegistryError::VaultNotRegistered(new.name().to_owned()))?;
    let mut update = match &args.update {
        Some(path) => {
            let u = PolicyUpdate::read(path).map_err(RegistryError::from)?;
            u.require_for(&old, &new).map_err(RegistryError::from)?;
            u
        }
        None => PolicyUpdate::new(&old, &new).map_err(RegistryError::from)?,
    };
    if old.approver(&args.approver).is_none() {
        return Err(RegistryError::NotAnApprover {
            approver: args.approver.clone(),
            policy: old.id(),
        }
        .into());
    }
    prompts.show(&format!(
        "Vault {} ({}): change of policy {} into {}\n{}",
        old.name(),
        old.network(),
        old.id().short(),
        new.id().short(),
        render_diff(&diff_lines(&old.to_toml(), &new.to_toml()), 2)
    ));
    if !args.yes
        && !prompts
            .confirm("Approve this policy change?")
            .map_err(RegistrationError::Prompt)?
    {
        return Err(RegistryError::NotConfirmed.into());
    }
    let key = home.unlock_approver(&args.approver, &prompts.passphrase()?)?;
    let digest = update_digest(&old, new.id(), key.id());
    let approval = UpdateApproval {
        approver: key.id().clone(),
        signature: key.sign(&Message::from_digest(digest)),
    };
    // Verified against the policy in force: an approval key whose public
    // key is not the policy's is refused here, not by every key holder.
    update
        .add_approval(&old, approval)
        .map_err(RegistryError::from)?;
    // Written, then logged: the log records only an approval that was
    // delivered, and a log that cannot be written takes the file back.
    write_new_atomically(&args.output, update.to_json().as_bytes()).map_err(KeyStoreError::from)?;
    let logged = home.log().append(&Event::ApproveUpdate(UpdateApproved {
        vault: old.name().to_owned(),
        old_policy_id: old.id(),
        new_policy_id: new.id(),
        approver: key.id().clone(),
    }));
    if let Err(e) = logged {
        let _ = std::fs::remove_file(&args.output);
        return Err(KeyStoreError::from(e).into());
    }
    Ok(UpdateApprovalReport {
        old_policy_id: old.id(),
        new_policy_id: new.id(),
        approvers: update.approvals().map(|a| a.approver).collect(),
        output: args.output.clone(),
    })
}

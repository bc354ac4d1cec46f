//! `custodia-coordinator policy …`: check, show and export a policy file, and
//! add a cosigner's key to one. These read files only; nothing here needs the
//! node or the data dir.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::policy::cosigner::read_cosigner;
use crate::policy::export::{export, ExportFormat};
use crate::policy::{add_key, KeyId, KeySigner, NewKey, PolicyReport, Tier, VaultPolicy};
use crate::transport::write_new_atomically;

/// The policy commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy; prints its id, exits 2 naming the first problem.
    Check {
        /// The policy file.
        file: PathBuf,
        /// Accept a policy in which signing devices alone make a quorum.
        #[arg(long)]
        i_understand_devices_enforce_nothing: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the policy id, wallets, quorum rules and descriptors.
    Show {
        /// The policy file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the descriptors with checksums, ready to import into Bitcoin Core or Sparrow.
    Descriptors {
        /// The policy file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Export the policy as QR frames (text) for `custodia-signer register --qr-in`.
    Qr {
        /// The policy file (validated first).
        file: PathBuf,
        /// How the frames are written.
        #[command(flatten)]
        frames: crate::ui::qr::PolicyFrames,
    },
    /// Write one wallet in a format other wallets and signing devices import.
    Export {
        /// The policy file (validated first).
        file: PathBuf,
        /// The wallet to export.
        #[arg(long)]
        tier: Tier,
        /// bsms (BIP-129 record), coldcard (multisig setup file), sparrow
        /// (descriptor file), core-descriptors (`importdescriptors` JSON).
        #[arg(long)]
        format: ExportFormat,
        /// Write to this new file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Print JSON (the export in `content`).
        #[arg(long)]
        json: bool,
    },
    /// Add a cosigner's key, read from their device's export file, to one
    /// wallet; writes the new policy to a new file. The threshold is unchanged.
    AddKey {
        /// The policy file (read, never changed).
        file: PathBuf,
        /// The cosigner's export: Coldcard multisig or generic JSON,
        /// `custodia-signer xpub --json`, or a `[fp/48'/…]xpub` line.
        #[arg(long)]
        from: PathBuf,
        /// Id of the new key, e.g. `cold-6`.
        #[arg(long)]
        id: KeyId,
        /// Department of the key holder.
        #[arg(long)]
        holder: String,
        /// Where the key is kept.
        #[arg(long)]
        location: String,
        /// The wallet that gains the key.
        #[arg(long)]
        tier: Tier,
        /// The key holder signs with a hardware wallet, which enforces none of
        /// the policy's rules (`signer = "device"`).
        #[arg(long)]
        device: bool,
        /// The new policy file (must not exist).
        #[arg(short, long)]
        output: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct ExportReport<'a> {
    policy_id: String,
    tier: Tier,
    format: &'static str,
    file: Option<&'a Path>,
    content: &'a str,
}

#[derive(Serialize)]
struct AddedKey {
    id: String,
    tier: Tier,
    xpub: String,
    source: crate::policy::cosigner::CosignerSource,
    quorum: String,
    policy_id: String,
    file: PathBuf,
}

/// Runs one policy command.
pub fn run(cmd: PolicyCommand) -> Result<()> {
    match cmd {
        PolicyCommand::Qr { file, frames } => {
            VaultPolicy::load(&file)?;
            crate::ui::qr::run(frames.encode(file))?
        }
        PolicyCommand::Export {
            file,
            tier,
            format,
            output,
            json,
        } => {
            let policy = VaultPolicy::load(&file)?;
            let content = export(&policy, tier, format)?;
            if let Some(out) = &output {
                write_new_atomically(out, content.as_bytes())?;
            }
            let report = ExportReport {
                policy_id: policy.id().to_string(),
                tier,
                format: format.as_str(),
                file: output.as_deref(),
                content: &content,
            };
            match (json, &output) {
                (true, _) => crate::ui::print_json(&report)?,
                (false, None) => print!("{content}"),
                (false, Some(out)) => println!(
                    "{} export of the {tier} wallet written to {} (policy id {})",
                    format.as_str(),
                    out.display(),
                    report.policy_id
                ),
            }
        }
        PolicyCommand::AddKey {
            file,
            from,
            id,
            holder,
            location,
            tier,
            device,
            output,
            json,
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let policy = VaultPolicy::from_toml(&text)?;
            let export = std::fs::read_to_string(&from)
                .with_context(|| format!("cannot read {}", from.display()))?;
            let key = read_cosigner(&export, policy.network(), policy.wallet(tier).script())
                .with_context(|| format!("{}: no usable cosigner key", from.display()))?;
            let new = NewKey {
                id,
                holder,
                location,
                tier,
                signer: if device {
                    KeySigner::Device
                } else {
                    KeySigner::Custodia
                },
            };
            let (new_text, new_policy) = add_key(&text, &new, &key.xpub)?;
            write_new_atomically(&output, new_text.as_bytes())?;
            let wallet = new_policy.wallet(tier);
            let added = AddedKey {
                id: new.id.to_string(),
                tier,
                xpub: key.xpub.to_string(),
                source: key.source,
                quorum: format!("{}-of-{}", wallet.threshold(), wallet.keys().len()),
                policy_id: new_policy.id().to_string(),
                file: output,
            };
            let text = format!(
                "key {} ({}, from a {}) added to the {tier} wallet, now {}; new policy id {} written to {}\nThe threshold is unchanged: review it, then `policy check` the new file.\n",
                added.id, added.xpub, key.source, added.quorum, added.policy_id, added.file.display()
            );
            crate::ui::output(json, &added, &text)?;
        }
        cmd => report(cmd)?,
    }
    Ok(())
}

fn report(cmd: PolicyCommand) -> Result<()> {
    let (file, json) = match &cmd {
        PolicyCommand::Check { file, json, .. }
        | PolicyCommand::Show { file, json }
        | PolicyCommand::Descriptors { file, json } => (file, *json),
        _ => unreachable!("handled by run"),
    };
    let policy = VaultPolicy::load(file)?;
    if let PolicyCommand::Check {
        i_understand_devices_enforce_nothing: u,
        ..
    } = &cmd
    {
        policy.check_devices(*u)?;
    }
    let report = PolicyReport::new(&policy);
    let r = &report;
    match (cmd, json) {
        (PolicyCommand::Check { .. }, false) => {
            println!("ok: {} ({}) policy id {}", r.vault, r.network, r.policy_id);
            r.device_warnings
                .iter()
                .for_each(|w| println!("WARNING: {w}"));
        }
        (PolicyCommand::Check { .. }, true) => println!(
            "{}",
            serde_json::json!({"valid": true, "vault": r.vault, "network": r.network, "policy_id": r.policy_id, "device_warnings": r.device_warnings})
        ),
        (PolicyCommand::Show { .. }, false) => print!("{}", report.to_text()),
        (PolicyCommand::Descriptors { .. }, false) => print!("{}", report.descriptors_text()),
        (_, true) => println!("{}", serde_json::to_string_pretty(&report)?),
        _ => unreachable!("handled by run"),
    }
    Ok(())
}

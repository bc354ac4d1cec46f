//! custodia-signer: the air-gapped key holder's and approver's program.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use bitcoin::Network;
use clap::{Parser, Subcommand};
use custodia::policy::{parse_network, ApproverId, PolicyId, VaultPolicy};
use custodia::psbt::Encoding;
use custodia::signer::keystore::{read_backup, AccountXpubs, BackupRecipient, SeedOrigin};
use custodia::signer::registry::RegistrationStatus;
use custodia::signer::signing::session::{PsbtUnderReview, SessionError};
use custodia::signer::{prompt, ApproverSecret, KeyStoreError, Mnemonic, Passphrase};
use custodia::signer::{RegistryError, SignerHome};

/// Holds one key offline; registers vault policies; reviews, signs and approves PSBTs.
#[derive(Parser)]
#[command(name = "custodia-signer", version, about)]
struct Cli {
    /// Data directory (default: $CUSTODIA_SIGNER_DIR, else ~/.custodia-signer).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Read the passphrase from the first line of this file instead of the terminal.
    #[arg(long, global = true)]
    passphrase_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new 24-word seed from the OS random generator, encrypted under a passphrase.
    Init {
        /// bitcoin, testnet, signet or regtest.
        #[arg(long, value_parser = network)]
        network: Network,
        /// Do not show the words (scripts; make a backup right away).
        #[arg(long)]
        no_display: bool,
    },
    /// Restore a seed from its BIP-39 words (typed on stdin, or from a file).
    Restore {
        /// bitcoin, testnet, signet or regtest.
        #[arg(long, value_parser = network)]
        network: Network,
        /// File holding the words (only its owner may read it).
        #[arg(long)]
        words_file: Option<PathBuf>,
    },
    /// Print the BIP-48 account xpubs (wsh and tr) with origin, for a policy.
    Xpub {
        /// Account number.
        #[arg(long, default_value_t = 0)]
        account: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write the seed, age-encrypted to one or more recipients, to a new file.
    Backup {
        /// age x25519 recipient (age1...); repeat for several.
        #[arg(long = "recipient", required = true)]
        recipients: Vec<BackupRecipient>,
        /// The backup file to create (never overwritten).
        #[arg(short = 'o', long)]
        output: PathBuf,
    },
    /// Restore the seed from a backup; checks the fingerprint against key.json if present.
    RestoreBackup {
        /// The backup file.
        file: PathBuf,
        /// age identity file (AGE-SECRET-KEY-1...) of one of the backup's recipients.
        #[arg(long)]
        identity: PathBuf,
        /// Network, if this data dir has no key.json yet.
        #[arg(long, value_parser = network)]
        network: Option<Network>,
    },
    /// Approval keys (BIP-340) of approvers.
    #[command(subcommand)]
    Approver(ApproverCommand),
    /// Register a vault policy, after showing it and what this signer holds of it.
    Register {
        /// The policy file.
        policy: PathBuf,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Replace the registered policy of the same vault.
        #[arg(long)]
        replace: bool,
    },
    /// List the registered policies.
    Policies {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The signer's hash-chained log.
    #[command(subcommand)]
    Log(LogCommand),
    /// Review a PSBT against the registered policy it names (exit 0 would sign, 1 refused, 2 bad input).
    Review {
        /// The PSBT file (base64 or binary, v0 or v2), or - for stdin.
        psbt: PathBuf,
        /// For a PSBT made by another wallet (Bitcoin Core, Sparrow) that names
        /// no custodia policy: review it against this registered policy id.
        /// Refused if the PSBT names another policy; every rule still applies.
        #[arg(long, value_name = "ID")]
        policy_id: Option<PolicyId>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Review, confirm, sign every input this seed can, log, and write a new file. Never finalizes.
    Sign {
        /// The PSBT file, or - for stdin.
        psbt: PathBuf,
        /// For a PSBT made by another wallet (Bitcoin Core, Sparrow) that names
        /// no custodia policy: review it against this registered policy id.
        /// Refused if the PSBT names another policy; every rule still applies.
        #[arg(long, value_name = "ID")]
        policy_id: Option<PolicyId>,
        /// The signed PSBT to create (never overwritten).
        #[arg(short = 'o', long)]
        output: PathBuf,
        /// Do not ask for confirmation (scripts).
        #[arg(long)]
        yes: bool,
        /// Output format, base64 or binary (default: as the input).
        #[arg(long)]
        format: Option<Encoding>,
    },
    /// Review a PSBT, then add this approver's BIP-340 approval to a new file.
    Approve {
        /// The PSBT file, or - for stdin.
        psbt: PathBuf,
        /// For a PSBT made by another wallet (Bitcoin Core, Sparrow) that names
        /// no custodia policy: review it against this registered policy id.
        /// Refused if the PSBT names another policy; every rule still applies.
        #[arg(long, value_name = "ID")]
        policy_id: Option<PolicyId>,
        /// The approver id whose key is stored here.
        #[arg(long)]
        approver: ApproverId,
        /// The approved PSBT to create (never overwritten).
        #[arg(short = 'o', long)]
        output: PathBuf,
        /// Do not ask for confirmation (scripts).
        #[arg(long)]
        yes: bool,
        /// Output format, base64 or binary (default: as the input).
        #[arg(long)]
        format: Option<Encoding>,
    },
}

#[derive(Subcommand)]
enum ApproverCommand {
    /// Create a new approval key; prints its x-only public key for the policy.
    Init {
        /// Approver id, as in the policy's [[approvers]].
        #[arg(long)]
        id: ApproverId,
    },
    /// Store an existing secret (64 hex characters in a file). For migration and tests only.
    Import {
        /// Approver id.
        #[arg(long)]
        id: ApproverId,
        /// File holding the secret (only its owner may read it).
        #[arg(long)]
        secret_file: PathBuf,
    },
    /// List the approval keys stored here.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum LogCommand {
    /// Check the hash chain; exit 1 naming the first changed line.
    Verify {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn network(name: &str) -> Result<Network, String> {
    parse_network(name).map_err(|_| "use bitcoin, testnet, signet or regtest".to_owned())
}

fn passphrase(file: &Option<PathBuf>, new: bool) -> Result<Passphrase, KeyStoreError> {
    Passphrase::obtain(file.as_deref(), new)
}

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn register(home: &SignerHome, policy: &Path, yes: bool, replace: bool) -> Result<()> {
    let reg = home.prepare_registration(VaultPolicy::load(policy)?)?;
    print!("{}", reg.to_text());
    match &reg.status {
        RegistrationStatus::AlreadyRegistered => return Ok(()),
        RegistrationStatus::Replaces { old, .. } if !replace => {
            bail!(RegistryError::NeedsReplace {
                vault: reg.policy.name().to_owned(),
                old: old.id(),
                new: reg.policy.id(),
            })
        }
        _ => {}
    }
    if !yes && !prompt::confirm("Register this policy?")? {
        bail!(RegistryError::NotConfirmed);
    }
    home.register(&reg, replace)?;
    println!(
        "registered policy {} for vault {}",
        reg.policy.id(),
        reg.policy.name()
    );
    Ok(())
}

/// Shows the review; refuses (exit 1) unless `approvable` says it may go on,
/// then asks for confirmation unless `yes`.
fn review_and_confirm(
    home: &SignerHome,
    psbt: &Path,
    policy_id: Option<PolicyId>,
    yes: bool,
    question: &str,
    approving: bool,
) -> Result<PsbtUnderReview> {
    let session = PsbtUnderReview::open_for(home, psbt, policy_id)?;
    eprint!("{}", session.review.to_text());
    if approving {
        session.require_approvable()?;
    } else {
        session.require_passing()?;
        session.require_key_holder(home)?;
    }
    if !yes && !prompt::confirm(question)? {
        bail!(SessionError::NotConfirmed);
    }
    Ok(session)
}

fn run(cli: Cli) -> Result<()> {
    let home = SignerHome::open(cli.data_dir.clone())?;
    let pass_file = &cli.passphrase_file;
    match cli.command {
        Command::Init {
            network,
            no_display,
        } => {
            home.ensure_no_seed()?;
            let pass = passphrase(pass_file, true)?;
            let words = Mnemonic::generate();
            let info = home.create_seed(&words, network, &pass, SeedOrigin::Init)?;
            if !no_display {
                println!("Write these 24 words on paper and keep them as safe as the key itself.\nThey are shown only now.\n\n{}", *words.numbered());
            }
            println!(
                "seed created: master fingerprint {} ({})",
                info.fingerprint, info.network
            );
        }
        Command::Restore {
            network,
            words_file,
        } => {
            home.ensure_no_seed()?;
            let words = match &words_file {
                Some(f) => Mnemonic::from_file(f)?,
                None => Mnemonic::prompt()?,
            };
            let info = home.create_seed(
                &words,
                network,
                &passphrase(pass_file, true)?,
                SeedOrigin::Restore,
            )?;
            println!(
                "seed restored: master fingerprint {} ({})",
                info.fingerprint, info.network
            );
        }
        Command::Xpub { account, json } => {
            let info = home
                .key_info()?
                .ok_or_else(|| KeyStoreError::NoSeed(home.dir().to_owned()))?;
            let seed = home.unlock_seed(&passphrase(pass_file, false)?)?;
            let xpubs = AccountXpubs::new(&seed, info.network(), account);
            if json {
                print_json(&xpubs)?
            } else {
                print!("{}", xpubs.to_text())
            }
        }
        Command::Backup { recipients, output } => {
            let fp = home.backup(&passphrase(pass_file, false)?, &recipients, &output)?;
            println!(
                "backup of master fingerprint {fp} written to {} for {} recipient(s)",
                output.display(),
                recipients.len()
            );
        }
        Command::RestoreBackup {
            file,
            identity,
            network,
        } => {
            home.ensure_no_seed()?;
            let words = read_backup(&file, &identity)?;
            let (info, checked) =
                home.restore_backup(&words, network, || passphrase(pass_file, true))?;
            let check = if checked {
                "matches key.json"
            } else {
                "compare it with the fingerprint in your policy"
            };
            println!(
                "seed restored from backup: master fingerprint {} ({check})",
                info.fingerprint
            );
        }
        Command::Approver(ApproverCommand::Init { id }) => {
            let info = home.approver_init(&id, &passphrase(pass_file, true)?)?;
            println!(
                "approval key `{id}` created; for the policy:\n\n{}",
                info.policy_snippet()
            );
        }
        Command::Approver(ApproverCommand::Import { id, secret_file }) => {
            let secret = ApproverSecret::from_file(&secret_file)?;
            let info = home.approver_import(&id, secret, &passphrase(pass_file, true)?)?;
            println!("approval key `{id}` imported; pubkey {}", info.pubkey);
        }
        Command::Approver(ApproverCommand::List { json: true }) => print_json(&home.approvers()?)?,
        Command::Approver(ApproverCommand::List { json: false }) => home
            .approvers()?
            .iter()
            .for_each(|a| println!("{}", a.to_line())),
        Command::Register {
            policy,
            yes,
            replace,
        } => register(&home, &policy, yes, replace)?,
        Command::Policies { json: true } => print_json(&home.registered_summary()?)?,
        Command::Policies { json: false } => home
            .registered_summary()?
            .iter()
            .for_each(|p| println!("{}", p.to_line())),
        Command::Review {
            psbt,
            policy_id,
            json,
        } => {
            let session = PsbtUnderReview::open_for(&home, &psbt, policy_id)?;
            if json {
                print_json(&session.review)?;
            } else {
                print!("{}", session.review.to_text());
            }
            session.require_passing()?;
        }
        Command::Sign {
            psbt,
            policy_id,
            output,
            yes,
            format,
        } => {
            let session = review_and_confirm(
                &home,
                &psbt,
                policy_id,
                yes,
                "Sign this transaction?",
                false,
            )?;
            let seed = home.unlock_seed(&passphrase(pass_file, false)?)?;
            let report = session.sign(&home, &seed, &output, format)?;
            println!(
                "signed {} input(s) with {}; wrote {}",
                report.outcome.inputs_signed,
                report
                    .outcome
                    .keys
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                output.display()
            );
        }
        Command::Approve {
            psbt,
            policy_id,
            approver,
            output,
            yes,
            format,
        } => {
            let session =
                review_and_confirm(&home, &psbt, policy_id, yes, "Approve this movement?", true)?;
            let key = home.unlock_approver(&approver, &passphrase(pass_file, false)?)?;
            session.approve(&home, &key, &output, format)?;
            println!("approval of {approver} added; wrote {}", output.display());
        }
        Command::Log(LogCommand::Verify { json }) => {
            let verified = home.log().verify()?;
            let (n, head) = (verified.entries.len(), verified.head());
            if json {
                print_json(&serde_json::json!({"valid": true, "entries": n, "head": head}))?;
            } else {
                println!("ok: {n} entries, head {head}");
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    custodia::cli::main_with(|| run(Cli::parse()))
}

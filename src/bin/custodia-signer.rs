//! custodia-signer: the air-gapped key holder's and approver's program.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Parser;
use custodia::policy::VaultPolicy;
use custodia::signer::cli::{ApproverCommand, Cli, Command, LogCommand};
use custodia::signer::keystore::{read_backup, AccountXpubs, SeedOrigin};
use custodia::signer::registry::RegistrationStatus;
use custodia::signer::signing::session;
use custodia::signer::{prompt, ApproverSecret, KeyStoreError, Mnemonic, Passphrase};
use custodia::signer::{RegistryError, SignerHome};

fn passphrase(file: &Option<PathBuf>, new: bool) -> Result<Passphrase, KeyStoreError> {
    Passphrase::obtain(file.as_deref(), new)
}

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn register(
    home: &SignerHome,
    policy: &Path,
    yes: bool,
    replace: bool,
    pass: &Option<PathBuf>,
) -> Result<()> {
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
    // The keys the policy gives this seed are derived again before anyone
    // confirms: a policy naming a key this seed does not derive is refused.
    let seed = match reg.needs_seed() {
        true => Some(home.unlock_seed(&passphrase(pass, false)?)?),
        false => None,
    };
    if let Some(seed) = &seed {
        home.check_own_keys(&reg.policy, seed)?;
    }
    if !yes && !prompt::confirm("Register this policy?")? {
        bail!(RegistryError::NotConfirmed);
    }
    home.register(&reg, replace, seed.as_ref())?;
    println!(
        "registered policy {} for vault {}",
        reg.policy.id(),
        reg.policy.name()
    );
    Ok(())
}

/// How a signing or approving session shows its review and asks the person:
/// the review on stderr (stdout stays for results), questions on the
/// terminal, the passphrase from the terminal or `--passphrase-file`.
struct Terminal<'a> {
    passphrase_file: &'a Option<PathBuf>,
}

impl session::Prompts for Terminal<'_> {
    fn show(&mut self, summary: &str) {
        eprint!("{summary}");
    }
    fn confirm(&mut self, question: &str) -> std::io::Result<bool> {
        prompt::confirm(question)
    }
    fn passphrase(&mut self) -> Result<Passphrase, KeyStoreError> {
        passphrase(self.passphrase_file, false)
    }
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
        } => register(&home, &policy, yes, replace, pass_file)?,
        Command::Policies { json } => {
            let summary = home.registered_summary()?;
            if json {
                print_json(&summary)?;
            } else {
                summary.iter().for_each(|p| println!("{}", p.to_line()));
            }
            for stray in home.unregistered_policy_files()? {
                eprintln!("WARNING: {stray}");
            }
        }
        Command::Review { input, json } => {
            let review = session::review(&home, &input)?;
            if json {
                print_json(&review)?;
            } else {
                print!("{}", review.to_text());
            }
            session::require_passing(review)?;
        }
        Command::Sign { input, out } => {
            let mut terminal = Terminal {
                passphrase_file: pass_file,
            };
            let report = session::sign(&home, &input, &out, &mut terminal)?;
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
                report.output.display()
            );
            for r in &report.outcome.replaced {
                println!(
                    "replaced a signature for key {} on input {} that was already in the PSBT and did not verify; ask the coordinator where it came from",
                    r.key,
                    r.slot.input()
                );
            }
        }
        Command::Approve {
            input,
            approver,
            out,
        } => {
            let mut terminal = Terminal {
                passphrase_file: pass_file,
            };
            let report = session::approve(&home, &input, &approver, &out, &mut terminal)?;
            println!(
                "approval of {} added; wrote {}",
                report.approver,
                report.output.display()
            );
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

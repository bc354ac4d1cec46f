//! custodia-signer: the air-gapped key holder's and approver's program.
//! Parse, call the library, print.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use anyhow::Result;
use custodia::audit::LogVerification;
use custodia::signer::cli::{ApproverCommand, Cli, Command, LogCommand, PassphraseCommand};
use custodia::signer::keystore::{read_backup, AccountXpubs, SeedOrigin};
use custodia::signer::signing::session;
use custodia::signer::{registration, ApproverSecret, KeyStoreError, Mnemonic, SignerHome};
use custodia::ui::output;
use custodia::ui::terminal::{passphrase, read_mnemonic, Terminal};

fn run(cli: Cli) -> Result<()> {
    custodia::signer::harden::no_core_dumps()?;
    let home = SignerHome::open(cli.data_dir.clone())?;
    let mut terminal = Terminal::new(cli.passphrase_file.clone());
    match cli.command {
        Command::Init {
            network,
            no_display,
        } => {
            home.ensure_no_seed()?;
            let pass = terminal.passphrase_for(true)?;
            let words = Mnemonic::generate();
            let info = home.create_seed(&words, network, &pass, SeedOrigin::Init)?;
            if !no_display {
                println!("Write these 24 words on paper and keep them as safe as the key itself.\nThey are shown only now.\n\n{}", *words.numbered());
            }
            println!("seed created: {}", info.to_line());
        }
        Command::Restore {
            network,
            words_file,
        } => {
            home.ensure_no_seed()?;
            let words = match &words_file {
                Some(f) => Mnemonic::from_file(f)?,
                None => read_mnemonic()?,
            };
            let pass = terminal.passphrase_for(true)?;
            let info = home.create_seed(&words, network, &pass, SeedOrigin::Restore)?;
            println!("seed restored: {}", info.to_line());
        }
        Command::Xpub { account, json } => {
            let info = home
                .key_info()?
                .ok_or_else(|| KeyStoreError::NoSeed(home.dir().to_owned()))?;
            let seed = home.unlock_seed(&terminal.passphrase_for(false)?)?;
            let xpubs = AccountXpubs::new(&seed, info.network(), account);
            output(json, &xpubs, &xpubs.to_text())?;
        }
        Command::Backup { recipients, output } => {
            let r = home.backup(&terminal.passphrase_for(false)?, &recipients, &output)?;
            let fp = r
                .fingerprint
                .map_or("no seed".into(), |f| format!("seed {f}"));
            let (to, n, keys) = (output.display(), recipients.len(), r.approvers.len());
            println!(
                "backup of {fp} and {keys} approval key(s) written to {to} for {n} recipient(s)"
            );
        }
        Command::RestoreBackup {
            file,
            identity,
            network,
        } => {
            let contents = read_backup(&file, &identity)?;
            let restored =
                home.restore_backup(&contents, network, || terminal.passphrase_for(true))?;
            print!("{}", restored.to_text());
        }
        Command::Approver(ApproverCommand::Init { id }) => {
            let info = home.approver_init(&id, &terminal.passphrase_for(true)?)?;
            let snippet = info.policy_snippet();
            println!("approval key `{id}` created; for the policy:\n\n{snippet}");
        }
        Command::Approver(ApproverCommand::Import { id, secret_file }) => {
            let secret = ApproverSecret::from_file(&secret_file)?;
            let info = home.approver_import(&id, secret, &terminal.passphrase_for(true)?)?;
            println!("approval key `{id}` imported; pubkey {}", info.pubkey);
        }
        Command::Passphrase(PassphraseCommand::Change {
            new_passphrase_file,
        }) => {
            let old = terminal.passphrase_for(false)?;
            let new = passphrase(new_passphrase_file.as_deref(), true)?;
            print!("{}", home.change_passphrase(&old, &new)?.to_text());
        }
        Command::Approver(ApproverCommand::List { json }) => {
            let list = home.approvers()?;
            let text: String = list.iter().map(|a| format!("{}\n", a.to_line())).collect();
            output(json, &list, &text)?;
        }
        Command::Register(args) => {
            if let Some(done) = registration::register(&home, &args, &mut terminal)? {
                print!("{}", done.to_text());
            }
        }
        Command::ApproveUpdate(args) => {
            let done =
                custodia::signer::policy_update::approve_update(&home, &args, &mut terminal)?;
            print!("{}", done.to_text());
        }
        Command::Policies { json } => custodia::ui::signer::policies(&home, json)?,
        Command::RetireKey { yes } => custodia::ui::signer::retire_key(&home, &terminal, yes)?,
        Command::RetirePolicy { policy_id } => {
            custodia::ui::signer::retire_policy(&home, &policy_id)?
        }
        Command::Review { input, json } => {
            let review = session::review(&home, &input)?;
            output(json, &review, &review.to_text())?;
            session::require_passing(review)?;
        }
        Command::Sign { input, out } => {
            print!(
                "{}",
                session::sign(&home, &input, &out, &mut terminal)?.to_text()
            );
        }
        Command::Approve {
            input,
            approver,
            out,
        } => {
            let report = session::approve(&home, &input, &approver, &out, &mut terminal)?;
            print!("{}", report.to_text());
        }
        Command::Qr(command) => custodia::ui::qr::run(command)?,
        Command::Selftest { json } => {
            let report = custodia::signer::selftest::run();
            output(json, &report, &report.to_text())?;
            report.require()?;
        }
        Command::Log(LogCommand::Verify { json }) => {
            let log = home.log();
            let report = LogVerification::of(log.path(), &log.verify()?)?;
            output(json, &report, &report.to_text())?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    custodia::cli::main_with(|| run(custodia::cli::parse::<Cli>()))
}

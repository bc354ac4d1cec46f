//! The command line of `custodia-signer`, defined here so that the program
//! itself stays a thin `main` and the arguments are documented with the
//! library. Every variant and field doc is the `--help` text.

use std::path::PathBuf;

use bitcoin::Network;
use clap::{Args, Parser, Subcommand};

use crate::policy::{parse_network, ApproverId, PolicyId};
use crate::psbt::Encoding;
use crate::signer::keystore::BackupRecipient;
use crate::transport::qr::args::PsbtQrOutArgs;
pub use crate::transport::qr::args::{QrCommand, QrInArgs};

/// Holds one key offline; registers vault policies; reviews, signs and approves PSBTs.
#[derive(Parser)]
#[command(name = "custodia-signer", version, about)]
pub struct Cli {
    /// Data directory (default: $CUSTODIA_SIGNER_DIR, else ~/.custodia-signer).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Read the passphrase from the first line of this file instead of the terminal.
    #[arg(long, global = true)]
    pub passphrase_file: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
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
    /// The passphrase of this laptop's secrets.
    #[command(subcommand)]
    Passphrase(PassphraseCommand),
    /// Register a vault policy, after showing it and what this signer holds of it.
    Register(RegisterArgs),
    /// As an approver of the registered policy, approve a successor policy
    /// (shows the change first); writes the policy update file.
    ApproveUpdate(ApproveUpdateArgs),
    /// Stop signing for a policy whose funds moved to the successor
    /// registered beside it (`register NEW --successor`).
    RetirePolicy {
        /// The policy id to retire.
        policy_id: PolicyId,
    },
    /// Wipe this laptop's seed once no registered policy uses its key (after
    /// a rotation and `retire-policy`); asks for the passphrase first.
    RetireKey {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// List the registered policies.
    Policies {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the known-answer self-test (also run before every sign and approve); exit 3 if any fails.
    Selftest {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The signer's hash-chained log.
    #[command(subcommand)]
    Log(LogCommand),
    /// Turn any file into QR frames, or frames back into the file.
    #[command(subcommand)]
    Qr(QrCommand),
    /// Review a PSBT against the registered policy it names (exit 0 would sign, 1 refused, 2 bad input).
    Review {
        /// The PSBT.
        #[command(flatten)]
        input: PsbtInput,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Review, confirm, sign every input this seed can, log, and write a new file. Never finalizes.
    Sign {
        /// The PSBT.
        #[command(flatten)]
        input: PsbtInput,
        /// The new PSBT.
        #[command(flatten)]
        out: PsbtOutput,
    },
    /// Review a PSBT, then add this approver's BIP-340 approval to a new file.
    Approve {
        /// The PSBT.
        #[command(flatten)]
        input: PsbtInput,
        /// The approver id whose key is stored here.
        #[arg(long)]
        approver: ApproverId,
        /// The new PSBT.
        #[command(flatten)]
        out: PsbtOutput,
    },
}

/// `passphrase ...`.
#[derive(Subcommand)]
pub enum PassphraseCommand {
    /// Encrypt the seed and every approval key here again under a new
    /// passphrase (asked twice; the old one from --passphrase-file or the terminal).
    Change {
        /// Read the new passphrase from the first line of this file instead.
        #[arg(long)]
        new_passphrase_file: Option<PathBuf>,
    },
}

/// `approver ...`.
#[derive(Subcommand)]
pub enum ApproverCommand {
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

/// `log ...`.
#[derive(Subcommand)]
pub enum LogCommand {
    /// Check the hash chain; exit 1 naming the first changed line.
    Verify {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The PSBT a command works on.
#[derive(Debug, Args)]
pub struct PsbtInput {
    /// The PSBT file (base64 or binary, v0 or v2, full or compact), or - for stdin.
    #[arg(required_unless_present = "qr_in")]
    pub psbt: Option<PathBuf>,
    /// Read the PSBT from QR frames instead (full or compact).
    #[command(flatten)]
    pub qr: QrInArgs,
    /// For a PSBT made by another wallet (Bitcoin Core, Sparrow) that names no
    /// custodia policy: review it against this registered policy id. Refused if
    /// the PSBT names another policy; every rule still applies.
    #[arg(long, value_name = "ID")]
    pub policy_id: Option<PolicyId>,
}

/// Where and how a command writes its new PSBT.
#[derive(Debug, Args)]
pub struct PsbtOutput {
    /// The PSBT to create (never overwritten, never the input).
    #[arg(
        short = 'o',
        long,
        required_unless_present = "qr_out",
        conflicts_with_all = ["qr_out", "qr_compact"]
    )]
    pub output: Option<PathBuf>,
    /// Or write the new PSBT as QR frames.
    #[command(flatten)]
    pub qr: PsbtQrOutArgs,
    /// Do not ask for confirmation (scripts).
    #[arg(long)]
    pub yes: bool,
    /// Output format, base64 or binary (default: as the input).
    #[arg(long)]
    pub format: Option<Encoding>,
}

fn network(name: &str) -> Result<Network, String> {
    parse_network(name).map_err(|_| "use bitcoin, testnet, signet or regtest".to_owned())
}

/// What `register` is given.
#[derive(Debug, Clone, Args)]
pub struct RegisterArgs {
    /// The policy file.
    #[arg(required_unless_present = "qr_in")]
    pub policy: Option<PathBuf>,
    /// Read the policy from QR frames instead (`custodia-coordinator policy qr`).
    #[command(flatten)]
    pub qr: QrInArgs,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Replace the registered policy of the same vault.
    #[arg(long, conflicts_with = "successor")]
    pub replace: bool,
    /// Register the policy beside the vault's registered one as its
    /// successor: this signer then signs migrations of the old policy's
    /// funds to it (`retire-policy` ends the old one).
    #[arg(long)]
    pub successor: bool,
    /// Register a policy in which signing devices alone make a quorum:
    /// nothing then enforces its rules at a key (logged).
    #[arg(long)]
    pub i_understand_devices_enforce_nothing: bool,
    /// The policy update its approvers approved (`custodia-signer
    /// approve-update`), when the registered policy governs its changes.
    #[arg(long)]
    pub update: Option<PathBuf>,
}

/// What `approve-update` is given.
#[derive(Debug, Clone, Args)]
pub struct ApproveUpdateArgs {
    /// The successor policy file.
    pub policy: PathBuf,
    /// The approver id whose key is stored here (an approver of the
    /// registered policy).
    #[arg(long)]
    pub approver: ApproverId,
    /// An update file with other approvers' approvals to add to (read, never
    /// changed).
    #[arg(long)]
    pub update: Option<PathBuf>,
    /// The update file to write (never overwritten).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
}

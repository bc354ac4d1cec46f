//! The coordinator's command line: argument types and what each command prints.
//! `custodia-coordinator` only parses and calls [`run`].

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::policy::Tier;

use crate::coordinator::{Coordinator, CoordinatorError, DataDir, NodeArgs, Quiet, SyncProgress};

mod movements;
mod qr;
mod reads;

pub use movements::ProposeCommand;
pub use qr::{CollectFrames, CombineFrames};

/// Options every coordinator command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// The coordinator's data dir (default: $HOME/.custodia-coordinator).
    #[arg(long, env = "CUSTODIA_COORDINATOR_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Node connection.
    #[command(flatten)]
    pub node: NodeArgs,
}

/// The coordinator's commands on a vault.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum VaultCommand {
    /// Set up the data dir for a vault policy: watch-only wallets, node settings.
    Init {
        /// The vault policy file.
        policy: PathBuf,
        /// Switch an initialized data dir to a different policy (logged).
        #[arg(long)]
        replace_policy: bool,
        /// The approved policy update, announced with `announce-policy`,
        /// when the policy in force governs its changes.
        #[arg(long, requires = "replace_policy")]
        update: Option<PathBuf>,
        /// The vault's birth height: sync never fetches older blocks (default 0).
        #[arg(long)]
        start_height: Option<u32>,
        /// Adopt a policy in which signing devices alone make a quorum:
        /// nothing then enforces its rules at a key (logged).
        #[arg(long)]
        i_understand_devices_enforce_nothing: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Announce an approved change of policy (`custodia-signer
    /// approve-update`): logged with the chain height, adopted by `init
    /// --replace-policy --update` once the policy's waiting blocks have passed.
    AnnouncePolicy {
        /// The successor policy file.
        policy: PathBuf,
        /// The policy update file with the approvals.
        #[arg(long)]
        update: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Node health (chain, tip, sync state, network) and the wallets' tips.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Bring both wallets up to the node's chain and mempool.
    Sync {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Balances per tier and the cold ratio against the policy's minimum.
    Balance {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A new receive address of a tier (its index is remembered).
    Address {
        /// cold or hot.
        #[arg(long)]
        tier: Tier,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Unspent outputs of the vault.
    Utxos {
        /// Only this tier.
        #[arg(long)]
        tier: Option<Tier>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Propose a movement: writes a PSBT for approvers and key holders.
    #[command(subcommand)]
    Propose(ProposeCommand),
    /// Which approvers have approved a proposal and which departments are missing.
    Approvals {
        /// Copies of one proposal (merged in memory).
        #[arg(required_unless_present = "qr_in")]
        psbts: Vec<PathBuf>,
        /// A copy as QR frames (a directory or frame files of one animation); repeat for several.
        #[arg(long = "qr-in", value_name = "DIR|FILE")]
        qr_in: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Merge approvals and signatures from copies of one proposal into a new file.
    Combine {
        /// Copies of one proposal.
        #[arg(required_unless_present = "qr_in")]
        psbts: Vec<PathBuf>,
        /// Copies as QR frames, and the merged PSBT as frames too.
        #[command(flatten)]
        frames: CombineFrames,
        /// The merged PSBT (never overwritten).
        #[arg(short, long)]
        out: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Complete the transaction once approvals and signatures suffice; writes raw hex.
    Finalize {
        /// The signed PSBT (several copies are merged first).
        #[arg(required_unless_present = "qr_in")]
        psbts: Vec<PathBuf>,
        /// Signed copies as QR frames, and the raw transaction as frames too.
        #[command(flatten)]
        frames: CollectFrames,
        /// The raw transaction file (hex).
        #[arg(short, long)]
        out: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Send a finalized transaction (hex file or finalized PSBT) to the network.
    Broadcast {
        /// The transaction.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Drop a proposal: release the coins it reserved (logged).
    Abandon {
        /// The proposal's PSBT (any copy).
        psbt: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The event log.
    #[command(subcommand)]
    Log(LogCommand),
}

/// `log` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum LogCommand {
    /// Check the hash chain of the event log; exit 1 naming the first bad line.
    Verify {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn print_json(value: &impl Serialize) {
    super::print_json(value).expect("reports serialize");
}

/// Runs one coordinator command and prints its result.
pub fn run(global: GlobalArgs, command: VaultCommand) -> Result<(), CoordinatorError> {
    let dir = DataDir::resolve(global.data_dir)?;
    if let VaultCommand::Init {
        policy,
        replace_policy,
        update,
        start_height,
        i_understand_devices_enforce_nothing,
        json,
    } = &command
    {
        let (_, r) = Coordinator::init(
            dir,
            policy,
            global.node,
            *replace_policy,
            update.as_deref(),
            *start_height,
            *i_understand_devices_enforce_nothing,
        )?;
        reads::init(&r, *json);
        return Ok(());
    }
    // Progress on a terminal, except for `sync --json`, whose caller wants
    // the report alone.
    let quiet = matches!(command, VaultCommand::Sync { json: true });
    let progress: Arc<dyn SyncProgress> = match quiet {
        true => Arc::new(Quiet),
        false => Arc::new(crate::ui::progress::TerminalProgress::default()),
    };
    let c = Coordinator::open(dir, global.node)?.with_progress(progress);
    match command {
        VaultCommand::Init { .. } => unreachable!("handled above"),
        VaultCommand::Status { json } => reads::status(&c, json),
        VaultCommand::Sync { json } => reads::sync(&c, json),
        VaultCommand::Balance { json } => reads::balance(&c, json),
        VaultCommand::AnnouncePolicy {
            policy,
            update,
            json,
        } => {
            let a = c.announce_policy(&policy, &update)?;
            match json {
                true => print_json(&a),
                false => print!("{}", a.to_text()),
            }
            Ok(())
        }
        VaultCommand::Address { tier, json } => reads::address(&c, tier, json),
        VaultCommand::Utxos { tier, json } => reads::utxos(&c, tier, json),
        VaultCommand::Propose(cmd) => movements::propose(&c, cmd),
        VaultCommand::Approvals { psbts, qr_in, json } => {
            movements::approvals(&c, &psbts, &qr_in, json)
        }
        VaultCommand::Combine {
            psbts,
            frames,
            out,
            json,
        } => movements::combine(&c, &psbts, &frames, &out, json),
        VaultCommand::Finalize {
            psbts,
            frames,
            out,
            json,
        } => movements::finalize(&c, &psbts, &frames, &out, json),
        VaultCommand::Broadcast { file, json } => movements::broadcast(&c, &file, json),
        VaultCommand::Abandon { psbt, json } => reads::abandon(&c, &psbt, json),
        VaultCommand::Log(LogCommand::Verify { json }) => reads::log_verify(&c, json),
    }
}

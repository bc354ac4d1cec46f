//! The coordinator's command line: argument types and what each command prints.
//! `custodia-coordinator` only parses and calls [`run`].

use std::path::PathBuf;

use serde::Serialize;
use serde_json::json;

use crate::policy::Tier;

use super::balance::btc;
use super::datadir::DataDir;
use super::error::CoordinatorError;
use super::node::NodeArgs;
use super::vault::Coordinator;

mod movements;

pub use movements::ProposeCommand;

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
        /// The vault's birth height: sync never fetches older blocks (default 0).
        #[arg(long)]
        start_height: Option<u32>,
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
        #[arg(required = true)]
        psbts: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Merge approvals and signatures from copies of one proposal into a new file.
    Combine {
        /// Copies of one proposal.
        #[arg(required = true)]
        psbts: Vec<PathBuf>,
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
        #[arg(required = true)]
        psbts: Vec<PathBuf>,
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
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("reports serialize")
    );
}

/// Runs one coordinator command and prints its result.
pub fn run(global: GlobalArgs, command: VaultCommand) -> Result<(), CoordinatorError> {
    let dir = DataDir::resolve(global.data_dir)?;
    if let VaultCommand::Init {
        policy,
        replace_policy,
        start_height,
        json,
    } = &command
    {
        let (_, r) = Coordinator::init(dir, policy, global.node, *replace_policy, *start_height)?;
        if *json {
            print_json(&r);
        } else {
            match r.action.as_str() {
                "created" => println!(
                    "initialized {} for vault {} (policy {})",
                    r.data_dir, r.vault, r.policy_id
                ),
                "unchanged" => println!(
                    "{} already watches vault {} (policy {}); nothing changed",
                    r.data_dir, r.vault, r.policy_id
                ),
                _ => println!(
                    "replaced policy {} with {} in {} (logged)",
                    r.replaced_policy_id.as_deref().unwrap_or("?"),
                    r.policy_id,
                    r.data_dir
                ),
            }
            for tier in &r.wallets_restarted {
                println!("the {tier} wallet's descriptor changed: its wallet starts over (the old database is kept); run `sync`");
            }
            if !r.node_checked {
                println!("note: no node settings yet; pass --rpc-url with --rpc-cookie or --rpc-user/--rpc-pass to `sync`, or run init again with them");
            }
        }
        return Ok(());
    }
    let c = Coordinator::open(dir, global.node)?;
    match command {
        VaultCommand::Init { .. } => unreachable!("handled above"),
        VaultCommand::Status { json } => {
            let s = c.status()?;
            if json {
                print_json(&s);
            } else {
                println!("vault {} ({}) policy {}", s.vault, s.network, s.policy_id);
                println!(
                    "node {}: chain {}, tip {} {}, headers {}, {}",
                    s.node.url,
                    s.node.chain,
                    s.node.blocks,
                    s.node.tip_hash,
                    s.node.headers,
                    if s.node_synced {
                        "synced".to_string()
                    } else {
                        format!("SYNCING ({:.1}%)", s.node.verification_progress * 100.0)
                    }
                );
                for t in &s.wallet_tips {
                    let note = if t.on_node_chain {
                        ""
                    } else {
                        " (NOT on the node's chain: a reorg happened; run `sync`)"
                    };
                    println!("{} wallet tip: {} {}{note}", t.tier, t.height, t.hash);
                }
                match &s.last_sync_time {
                    Some(t) => println!(
                        "last sync: {t} ({} blocks behind the node)",
                        s.blocks_behind
                    ),
                    None => println!("never synced; run `custodia-coordinator sync`"),
                }
            }
        }
        VaultCommand::Sync { json } => {
            let r = c.sync(!json)?;
            if json {
                print_json(&r);
            } else {
                let blocks: Vec<String> = r
                    .blocks_applied
                    .iter()
                    .map(|(t, n)| format!("{t} {n}"))
                    .collect();
                println!(
                    "synced to {} {} (blocks applied: {}; {} vault transaction(s) unconfirmed)",
                    r.tip_height,
                    r.tip_hash,
                    blocks.join(", "),
                    r.mempool_txs
                );
            }
        }
        VaultCommand::Balance { json } => {
            let b = c.balance()?;
            if json {
                print_json(&b.to_json());
            } else {
                print!("{}", b.to_text());
            }
        }
        VaultCommand::Address { tier, json } => {
            let a = c.new_address(tier)?;
            if json {
                print_json(&a);
            } else {
                println!("{}", a.address);
            }
        }
        VaultCommand::Utxos { tier, json } => {
            let coins = c.coins(tier)?;
            if json {
                print_json(&coins);
            } else if coins.is_empty() {
                println!("no unspent outputs (run `sync` first if you expect some)");
            } else {
                for coin in coins {
                    let conf = coin
                        .confirmation_height
                        .map(|h| format!("block {h}"))
                        .unwrap_or_else(|| "unconfirmed".into());
                    let conf = if coin.reserved {
                        format!("{conf}, reserved by a proposal")
                    } else {
                        conf
                    };
                    println!(
                        "{:<4} {} {:>20} {} {}/{} {}",
                        coin.tier.as_str(),
                        coin.outpoint,
                        btc(coin.amount),
                        coin.address,
                        coin.chain,
                        coin.index,
                        conf
                    );
                }
            }
        }
        VaultCommand::Propose(cmd) => movements::propose(&c, cmd)?,
        VaultCommand::Approvals { psbts, json } => movements::approvals(&c, &psbts, json)?,
        VaultCommand::Combine { psbts, out, json } => movements::combine(&c, &psbts, &out, json)?,
        VaultCommand::Finalize { psbts, out, json } => movements::finalize(&c, &psbts, &out, json)?,
        VaultCommand::Broadcast { file, json } => movements::broadcast(&c, &file, json)?,
        VaultCommand::Abandon { psbt, json } => {
            let (txid, released) = c.abandon(&psbt)?;
            if json {
                print_json(&json!({"txid": txid, "released": released}));
            } else {
                println!("abandoned {txid}: {released} coin(s) released; do not sign or broadcast its copies");
            }
        }
        VaultCommand::Log(LogCommand::Verify { json }) => {
            let log = c.dir().event_log();
            match log.verify() {
                Ok(v) => {
                    if json {
                        print_json(
                            &json!({"valid": true, "entries": v.entries.len(), "head": v.head()}),
                        );
                    } else {
                        println!(
                            "event log OK: {} entries, head {}",
                            v.entries.len(),
                            v.head()
                        );
                    }
                }
                Err(e) => {
                    if json {
                        let line = match &e {
                            crate::audit::LogError::Tampered { line, .. } => Some(*line),
                            _ => None,
                        };
                        print_json(&json!({"valid": false, "line": line, "error": e.to_string()}));
                    }
                    return Err(CoordinatorError::Log(e));
                }
            }
        }
    }
    Ok(())
}

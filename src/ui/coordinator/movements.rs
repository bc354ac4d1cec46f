//! Commands that move funds: propose, approvals, combine, finalize, broadcast.

use std::path::{Path, PathBuf};

use super::qr::{self, CollectFrames, CombineFrames};
use crate::transport::qr::args::PsbtQrOutArgs;

use bitcoin::{Amount, FeeRate};
use serde_json::json;

use crate::policy::{parse_amount, Tier};
use crate::psbt::proof::ProofMessage;

use super::print_json;
use crate::coordinator::parse_fee_rate;
use crate::coordinator::Coordinator;
use crate::coordinator::CoordinatorError;

fn amount_arg(text: &str) -> Result<Amount, crate::policy::UnitError> {
    parse_amount(text)
}

fn fee_rate_arg(text: &str) -> Result<FeeRate, String> {
    parse_fee_rate(text).map_err(|e| e.to_string())
}

/// Where a proposal goes, and how it is reported.
#[derive(Debug, Clone, clap::Args)]
pub struct ProposalOutput {
    /// Where to write the PSBT (never overwritten).
    #[arg(short, long)]
    pub out: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the proposal as QR frames for the signers.
    #[command(flatten)]
    pub qr: PsbtQrOutArgs,
}

/// What `propose migrate` and `propose recovery` read.
#[derive(Debug, Clone, clap::Args)]
pub struct SuccessorArgs {
    /// cold or hot.
    #[arg(long)]
    tier: Tier,
    /// The successor policy file.
    #[arg(long)]
    to: PathBuf,
    /// Its approved policy update, when the policy in force governs changes.
    #[arg(long)]
    update: Option<PathBuf>,
    /// The most coins one proposal spends (default 200).
    #[arg(long)]
    max_inputs: Option<usize>,
    /// Fee rate in sat/vB.
    #[arg(long, value_parser = fee_rate_arg)]
    fee_rate: Option<FeeRate>,
    /// The PSBT to write.
    #[command(flatten)]
    output: ProposalOutput,
}

impl SuccessorArgs {
    fn load(&self) -> Result<crate::coordinator::SuccessorMove, CoordinatorError> {
        crate::coordinator::SuccessorMove::load(
            self.tier,
            &self.to,
            self.update.as_deref(),
            self.max_inputs,
            self.fee_rate,
        )
    }
}

/// `propose` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ProposeCommand {
    /// Move funds from one tier to a fresh address of the other (cold→hot needs approvals).
    Transfer {
        /// Source tier.
        #[arg(long)]
        from: Tier,
        /// Destination tier.
        #[arg(long)]
        to: Tier,
        /// Amount with unit, e.g. "0.5 BTC" or "1500 sat".
        #[arg(long, value_parser = amount_arg)]
        amount: Amount,
        /// Fee rate in sat/vB (default: the node's estimate, 2 sat/vB without one).
        #[arg(long, value_parser = fee_rate_arg)]
        fee_rate: Option<FeeRate>,
        /// The PSBT to write.
        #[command(flatten)]
        output: ProposalOutput,
    },
    /// Pay the `address,amount` rows of a CSV file from hot, in one transaction.
    Payout {
        /// The CSV file.
        #[arg(long)]
        csv: PathBuf,
        /// Fee rate in sat/vB.
        #[arg(long, value_parser = fee_rate_arg)]
        fee_rate: Option<FeeRate>,
        /// The PSBT to write.
        #[command(flatten)]
        output: ProposalOutput,
    },
    /// Replace a stuck (unconfirmed) vault transaction by one with a higher fee rate.
    Bump {
        /// The stuck transaction.
        #[arg(long)]
        txid: bitcoin::Txid,
        /// The new fee rate in sat/vB.
        #[arg(long, value_parser = fee_rate_arg)]
        fee_rate: FeeRate,
        /// The PSBT to write.
        #[command(flatten)]
        output: ProposalOutput,
    },
    /// Many small confirmed coins of one tier into one (while fees are low).
    Consolidate {
        /// cold or hot.
        #[arg(long)]
        tier: Tier,
        /// Only the N smallest coins.
        #[arg(long)]
        max_inputs: Option<usize>,
        /// Fee rate in sat/vB.
        #[arg(long, value_parser = fee_rate_arg)]
        fee_rate: Option<FeeRate>,
        /// The PSBT to write.
        #[command(flatten)]
        output: ProposalOutput,
    },
    /// A proof of control for an auditor: every confirmed coin of one tier
    /// signed behind a challenge committing to the auditor's message; it can
    /// never be mined and moves nothing.
    Proof {
        /// cold or hot.
        #[arg(long)]
        tier: Tier,
        /// The auditor's challenge message (one line of text, at most 256 bytes).
        #[arg(long)]
        message: ProofMessage,
        /// The PSBT to write.
        #[command(flatten)]
        output: ProposalOutput,
    },
    /// Move one tier's coins to the same tier of the vault's successor
    /// policy (a key rotation): the successor must be approved, announced
    /// (`announce-policy`) and its waiting blocks passed. Up to --max-inputs
    /// coins per proposal; run it again for the rest.
    Migrate(SuccessorArgs),
    /// When a tier's normal quorum is lost: move its coins through the
    /// wallet's timelocked recovery path to the same tier of the successor
    /// policy (approved, announced, waited for, as for `migrate`). Recovery
    /// keys sign; the node accepts it once the timelock has passed (the
    /// proposal says from which height).
    Recovery(SuccessorArgs),
    /// The transfer that brings the hot share back to the policy's target.
    Rebalance {
        /// Fee rate in sat/vB.
        #[arg(long, value_parser = fee_rate_arg)]
        fee_rate: Option<FeeRate>,
        /// The PSBT to write.
        #[command(flatten)]
        output: ProposalOutput,
    },
}

/// Runs a `propose` subcommand.
pub fn propose(c: &Coordinator, cmd: ProposeCommand) -> Result<(), CoordinatorError> {
    let output = match &cmd {
        ProposeCommand::Transfer { output, .. }
        | ProposeCommand::Payout { output, .. }
        | ProposeCommand::Bump { output, .. }
        | ProposeCommand::Consolidate { output, .. }
        | ProposeCommand::Proof { output, .. }
        | ProposeCommand::Migrate(SuccessorArgs { output, .. })
        | ProposeCommand::Recovery(SuccessorArgs { output, .. })
        | ProposeCommand::Rebalance { output, .. } => output.clone(),
    };
    qr::check_out(&output.qr.out)?;
    let (proposal, json, nothing) = match cmd {
        ProposeCommand::Transfer {
            from,
            to,
            amount,
            fee_rate,
            output,
        } => (
            Some(c.propose_transfer(from, to, amount, fee_rate, &output.out)?),
            output.json,
            "",
        ),
        ProposeCommand::Payout {
            csv,
            fee_rate,
            output,
        } => (
            Some(c.propose_payout(&csv, fee_rate, &output.out)?),
            output.json,
            "",
        ),
        ProposeCommand::Bump {
            txid,
            fee_rate,
            output,
        } => (
            Some(c.propose_bump(txid, fee_rate, &output.out)?),
            output.json,
            "",
        ),
        ProposeCommand::Consolidate {
            tier,
            max_inputs,
            fee_rate,
            output,
        } => (
            c.propose_consolidate(tier, max_inputs, fee_rate, &output.out)?,
            output.json,
            "fewer than two confirmed, unreserved coins to consolidate",
        ),
        ProposeCommand::Proof {
            tier,
            message,
            output,
        } => (
            Some(c.propose_proof(tier, &message, &output.out)?),
            output.json,
            "",
        ),
        ProposeCommand::Migrate(args) => (
            c.propose_migrate(&args.load()?, &args.output.out)?,
            args.output.json,
            "no confirmed, unreserved coin of that tier is left to migrate",
        ),
        ProposeCommand::Recovery(args) => (
            c.propose_recovery(&args.load()?, &args.output.out)?,
            args.output.json,
            "no confirmed coin of that tier is left to recover",
        ),
        ProposeCommand::Rebalance { fee_rate, output } => (
            c.propose_rebalance(fee_rate, &output.out)?,
            output.json,
            "the hot share is within one percentage point of its target",
        ),
    };
    let frames = match proposal {
        Some(_) => qr::psbt_frames_of(&output.out, &output.qr, c.policy())?,
        None => None,
    };
    match (proposal, json) {
        (Some(p), true) => print_json(&json!({"proposed": true, "proposal": p, "frames": frames})),
        (Some(p), false) => {
            print!("{}", p.to_text());
            frames
                .iter()
                .for_each(|f| println!("{}", crate::ui::qr::written_text(f)));
        }
        (None, true) => print_json(&json!({"proposed": false, "reason": nothing})),
        (None, false) => println!("nothing to do: {nothing}"),
    }
    Ok(())
}

/// `approvals`.
pub fn approvals(
    c: &Coordinator,
    psbts: &[PathBuf],
    qr_in: &[PathBuf],
    json: bool,
) -> Result<(), CoordinatorError> {
    let inputs = qr::with_frames(psbts, qr_in)?;
    let status = c.approvals(&inputs.paths)?;
    if json {
        print_json(&status);
    } else {
        print!("{}", status.to_text());
    }
    Ok(())
}

/// `combine`.
pub fn combine(
    c: &Coordinator,
    psbts: &[PathBuf],
    frames: &CombineFrames,
    out: &Path,
    json: bool,
) -> Result<(), CoordinatorError> {
    qr::check_out(&frames.qr.out)?;
    let inputs = qr::with_frames(psbts, &frames.qr_in)?;
    let status = c.combine(&inputs.paths, out)?;
    let written = qr::psbt_frames_of(out, &frames.qr, c.policy())?;
    if json {
        print_json(&json!({"file": out, "status": status, "frames": written}));
    } else {
        print!("{}", status.to_text());
        println!("written to {}", out.display());
        written
            .iter()
            .for_each(|f| println!("{}", crate::ui::qr::written_text(f)));
    }
    Ok(())
}

/// `finalize`.
pub fn finalize(
    c: &Coordinator,
    psbts: &[PathBuf],
    frames: &CollectFrames,
    out: &Path,
    json: bool,
) -> Result<(), CoordinatorError> {
    qr::check_out(&frames.qr)?;
    let inputs = qr::with_frames(psbts, &frames.qr_in)?;
    let f = c.finalize(&inputs.paths, out)?;
    // The raw transaction (hex) goes as text, for a machine that broadcasts.
    let written = qr::frames_of(out, &frames.qr)?;
    if json {
        // The report as before; the frames, when asked for, beside it.
        match &written {
            None => print_json(&f),
            Some(w) => print_json(&json!({"finalized": f, "frames": w})),
        }
    } else {
        written
            .iter()
            .for_each(|f| println!("{}", crate::ui::qr::written_text(f)));
        println!(
            "finalized {} ({} vB); raw transaction written to {}\nnext: custodia-coordinator broadcast {}",
            f.txid,
            f.vsize,
            f.file.display(),
            f.file.display()
        );
    }
    Ok(())
}

/// `broadcast`.
pub fn broadcast(c: &Coordinator, file: &Path, json: bool) -> Result<(), CoordinatorError> {
    let txid = c.broadcast(file)?;
    if json {
        print_json(&json!({"txid": txid}));
    } else {
        println!("{txid}");
    }
    Ok(())
}

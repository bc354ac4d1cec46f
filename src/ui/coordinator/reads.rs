//! Commands that read or set up: init, status, sync, balance, address,
//! utxos, abandon, log verify.

use serde_json::json;

use super::print_json;
use crate::audit::{LogVerification, PolicyAction};
use crate::coordinator::CoordinatorError;
use crate::coordinator::{Coordinator, InitReport};
use crate::policy::btc;
use crate::policy::Tier;

/// Prints what `init` did.
pub fn init(r: &InitReport, json: bool) {
    if json {
        print_json(r);
    } else {
        let dir = r.data_dir.display();
        match (r.action, r.replaced_policy_id) {
            (PolicyAction::Created, _) => println!(
                "initialized {dir} for vault {} (policy {})",
                r.vault, r.policy_id
            ),
            (PolicyAction::Unchanged, _) => println!(
                "{dir} already watches vault {} (policy {}); nothing changed",
                r.vault, r.policy_id
            ),
            (PolicyAction::Replaced, old) => println!(
                "replaced policy {} with {} in {dir} (logged)",
                old.map_or_else(|| "?".to_owned(), |id| id.to_string()),
                r.policy_id,
            ),
        }
        for tier in &r.wallets_restarted {
            println!("the {tier} wallet's descriptor changed: its wallet starts over (the old database is kept); run `sync`");
        }
        for w in &r.device_warnings {
            println!("WARNING: {w}");
        }
        if !r.node_checked {
            println!("note: no node settings yet; pass --rpc-url with --rpc-cookie or --rpc-user/--rpc-pass to `sync`, or run init again with them");
        }
    }
}

/// `status`.
pub fn status(c: &Coordinator, json: bool) -> Result<(), CoordinatorError> {
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
        print!("{}", to_do_text(&s.to_do));
    }
    Ok(())
}

/// The to-do part of `status`.
fn to_do_text(t: &crate::coordinator::ToDo) -> String {
    let mut s = String::from("\nto do:\n");
    let before = s.len();
    if !t.ratio_ok {
        s.push_str(&format!(
            "  the cold share is {:.2}%, below the policy's minimum: propose a rebalance\n",
            t.cold_percent
        ));
    }
    for p in &t.open_proposals {
        s.push_str(&format!(
            "  proposal {} ({}, {}): {} — {}\n",
            p.txid,
            p.movement.as_str(),
            crate::policy::btc(p.amount),
            p.file,
            p.waiting_for()
        ));
    }
    for c in &t.recovery_soon {
        let when = match c.opens_in {
            0 => "its recovery path is OPEN".to_owned(),
            n => format!("its recovery path opens in {n} block(s)"),
        };
        s.push_str(&format!(
            "  {} coin {} ({}): {when}; move it with the main quorum (consolidate) to restart the timelock\n",
            c.tier,
            c.outpoint,
            crate::policy::btc(c.amount)
        ));
    }
    if s.len() == before {
        s.push_str(&format!(
            "  nothing: no open proposal, no recovery timelock near, cold share {:.2}%\n",
            t.cold_percent
        ));
    }
    s
}

/// `sync`.
pub fn sync(c: &Coordinator, json: bool) -> Result<(), CoordinatorError> {
    let r = c.sync()?;
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
    Ok(())
}

/// `balance`.
pub fn balance(c: &Coordinator, json: bool) -> Result<(), CoordinatorError> {
    let b = c.balance()?;
    if json {
        print_json(&b.to_json());
    } else {
        print!("{}", b.to_text());
    }
    Ok(())
}

/// `address`.
pub fn address(c: &Coordinator, tier: Tier, json: bool) -> Result<(), CoordinatorError> {
    let a = c.new_address(tier)?;
    if json {
        print_json(&a);
    } else {
        println!("{}", a.address);
    }
    Ok(())
}

/// `utxos`.
pub fn utxos(c: &Coordinator, tier: Option<Tier>, json: bool) -> Result<(), CoordinatorError> {
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
    Ok(())
}

/// `abandon`.
pub fn abandon(
    c: &Coordinator,
    psbt: &std::path::Path,
    json: bool,
) -> Result<(), CoordinatorError> {
    let (txid, released) = c.abandon(psbt)?;
    if json {
        print_json(&json!({"txid": txid, "released": released}));
    } else {
        println!(
            "abandoned {txid}: {released} coin(s) released; do not sign or broadcast its copies"
        );
    }
    Ok(())
}

/// `log verify`.
pub fn log_verify(c: &Coordinator, json: bool) -> Result<(), CoordinatorError> {
    let path = c.dir().events_path();
    match c.dir().event_log().verify() {
        Ok(v) => {
            let report = LogVerification::of(&path, &v)?;
            match json {
                true => print_json(&report),
                false => print!("{}", report.to_text()),
            }
            Ok(())
        }
        Err(e) => {
            if json {
                print_json(&LogVerification::failed(&path, &e));
            }
            Err(CoordinatorError::Log(e))
        }
    }
}

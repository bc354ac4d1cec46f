//! The daily report as Markdown, for people and for filing.

use std::fmt::Write as _;

use super::DailyReport;
use crate::policy::format_amount;

/// Renders `r`.
pub(super) fn render(r: &DailyReport) -> String {
    let b = &r.balances;
    let mut s = String::new();
    let _ = writeln!(s, "# Daily report: vault {}\n", b.vault);
    let _ = writeln!(s, "- policy: `{}`", b.policy_id);
    let _ = writeln!(
        s,
        "- taken at block {} (`{}`), {}",
        r.tip_height, r.tip_hash, r.tip_time
    );
    let _ = writeln!(
        s,
        "- findings: **{}**\n",
        match r.finding_count() {
            0 => "none".to_owned(),
            n => n.to_string(),
        }
    );

    let _ = writeln!(s, "## Balances (UTXO set, indexes 0..={})\n", b.last_index);
    let _ = writeln!(s, "| tier | amount | outputs |\n|---|---:|---:|");
    for t in &b.tiers {
        let _ = writeln!(s, "| {} | {} | {} |", t.tier, t.amount, t.outputs);
    }
    let _ = writeln!(s, "| total | {} | |\n", format_amount(b.total));
    let _ = writeln!(
        s,
        "Cold share {:.2}% against the policy minimum of {}%: {}\n",
        b.cold_percent,
        b.cold_min_percent,
        if b.ratio_ok {
            "OK"
        } else {
            "**FINDING: below the minimum**"
        }
    );

    if let Some(res) = &r.reserves {
        let _ = writeln!(s, "## Reserves against liabilities\n");
        let _ = writeln!(
            s,
            "Assets {} against liabilities {} of {} customers: coverage {}: {}\n",
            format_amount(res.assets),
            format_amount(res.liabilities),
            res.customers,
            res.coverage_percent
                .map_or_else(|| "n/a".to_owned(), |p| format!("{p:.2}%")),
            if res.covered {
                "OK"
            } else {
                "**FINDING: assets below liabilities**"
            }
        );
        let _ = writeln!(s, "Merkle-sum root to publish: `{}`\n", res.root);
    }

    let c = &r.reconcile;
    let _ = writeln!(
        s,
        "## Vault spends (blocks {}..={} and the mempool)\n",
        c.from_height, c.tip_height
    );
    if c.spends.is_empty() {
        let _ = writeln!(s, "No vault coin was spent.\n");
    } else {
        let _ = writeln!(
            s,
            "| txid | where | movement | moved | verdict |\n|---|---|---|---:|---|"
        );
        for sp in &c.spends {
            let at = match sp.spend.status {
                crate::audit::reconcile::SpendStatus::Confirmed { height, .. } => {
                    format!("block {height}")
                }
                crate::audit::reconcile::SpendStatus::Unconfirmed => "mempool".to_owned(),
            };
            let verdict = match sp.problems.len() {
                0 => "OK".to_owned(),
                _ => sp
                    .problems
                    .iter()
                    .map(|p| format!("**FINDING**: {p}"))
                    .collect::<Vec<_>>()
                    .join("<br>"),
            };
            let _ = writeln!(
                s,
                "| `{}` | {at} | {} | {} | {verdict} |",
                sp.spend.txid,
                sp.movement.map_or("—", |m| m.describe()),
                sp.moved.map_or_else(|| "—".to_owned(), format_amount),
            );
        }
        s.push('\n');
    }
    for txid in &c.broadcast_not_found {
        let _ = writeln!(
            s,
            "- note: `{txid}` was broadcast by the coordinator but is not in the blocks walked nor the mempool"
        );
    }

    let _ = writeln!(s, "## Logs\n");
    let _ = writeln!(s, "| log | entries | head |\n|---|---:|---|");
    for l in &r.logs {
        let _ = writeln!(
            s,
            "| `{}` | {} | `{}` |",
            l.path.display(),
            l.entries,
            l.head
        );
    }
    s.push('\n');
    for part in [r.signer_heads.to_text(), r.signatures.to_text()] {
        for line in part.lines() {
            let _ = writeln!(s, "- {}", line.trim());
        }
    }

    let _ = writeln!(s, "\n## Holdings per day (from the chain)\n");
    let _ = writeln!(s, "![holdings](balances.svg)\n");
    let _ = writeln!(
        s,
        "| day | block | cold | hot | cold share |\n|---|---:|---:|---:|---:|"
    );
    for d in &r.days {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.2}% |",
            d.date,
            d.height,
            format_amount(d.cold),
            format_amount(d.hot),
            d.cold_percent
        );
    }
    let _ = writeln!(
        s,
        "\nHoldings per day count the coins funded from block {} on; start the walk at the vault's birth height for a complete history.",
        c.from_height
    );
    s
}

//! Governed policy change end to end: a successor policy that adds an
//! allowlisted address is refused by signers and the coordinator with too
//! few approvals, used once approved and its waiting blocks have passed,
//! and listed by the auditor with its approvals.

use super::audit::auditor;
use super::support::*;

const ADDED: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
pub(crate) const GOVERNANCE: &str =
    "\n[rules.policy_change]\nmin_approvals = 2\nmin_departments = 2\nwait_blocks = 6\n";

/// The example policy, governed, and its successor with one more
/// allowlisted address, written into the scratch dir.
fn policies(c: &Coord) -> (String, String) {
    let text = std::fs::read_to_string(POLICY).unwrap() + GOVERNANCE;
    let next = text.replace(
        "allowlist = [\n",
        &format!("allowlist = [\n    \"{ADDED}\",\n"),
    );
    let (old, new) = (c.path("governed.toml"), c.path("successor.toml"));
    std::fs::write(&old, text).unwrap();
    std::fs::write(&new, next).unwrap();
    (
        old.to_str().unwrap().to_owned(),
        new.to_str().unwrap().to_owned(),
    )
}

pub(crate) fn approve_update(c: &Coord, who: &str, new: &str, update: Option<&Path>, out: &Path) {
    let mut cmd = signer(c, who);
    cmd.args(["approve-update", new, "--approver", who, "--yes", "-o"])
        .arg(out);
    if let Some(u) = update {
        cmd.arg("--update").arg(u);
    }
    cmd.assert().success();
}

fn log_lines(path: &Path) -> usize {
    std::fs::read_to_string(path).unwrap().lines().count()
}

/// `register POLICY --replace` on key holder `key`'s signer: its exit code.
fn register(c: &Coord, key: &str, policy: &str, update: Option<&Path>) -> i32 {
    register_as(c, key, policy, "--replace", update)
}

/// `register POLICY HOW [--update U]` (`HOW` `--replace` or `--successor`)
/// on `key`'s signer: its exit code.
pub(crate) fn register_as(
    c: &Coord,
    key: &str,
    policy: &str,
    how: &str,
    update: Option<&Path>,
) -> i32 {
    let mut cmd = signer(c, key);
    cmd.args(["register", policy, how, "--yes"]);
    if let Some(u) = update {
        cmd.arg("--update").arg(u);
    }
    cmd.output().unwrap().status.code().unwrap()
}

#[test]
fn an_allowlist_change_needs_its_approvals_and_its_wait() {
    let node = common::Node::start();
    let c = Coord::new(&node);
    let (old, new) = policies(&c);
    c.json(&["init", &old]);
    let a = c.json(&["address", "--tier", "hot"]);
    node.mine_to_descriptor(1, a["descriptor"].as_str().unwrap());
    node.mine_elsewhere(100);
    for key in ["hot-1", "hot-3"] {
        key_holder(&c, key, &old);
    }
    for id in ["sato", "ito", "suzuki"] {
        approver_machine(&c, id, &old);
    }

    // Two approvals from one department (treasury): not enough.
    let (u1, u2) = (c.path("update-1.json"), c.path("update-2.json"));
    approve_update(&c, "sato", &new, None, &u1);
    approve_update(&c, "ito", &new, Some(&u1), &u2);
    for key in ["hot-1", "hot-3"] {
        let log = c.path(key).join("log.jsonl");
        let before = log_lines(&log);
        assert_eq!(register(&c, key, &new, None), 1, "{key}: no update");
        assert_eq!(
            register(&c, key, &new, Some(&u2)),
            1,
            "{key}: one department"
        );
        assert_eq!(log_lines(&log), before, "{key}: nothing logged");
    }
    let events = c.data_dir().join("events.jsonl");
    let before = log_lines(&events);
    let err = c.fails(
        &["announce-policy", &new, "--update", u2.to_str().unwrap()],
        1,
    );
    assert!(err.contains("2 approval(s) from 1 department(s)"), "{err}");
    c.fails(&["init", &new, "--replace-policy"], 1);
    assert_eq!(log_lines(&events), before);

    // A second department approves: announced, then six blocks to wait.
    let u3 = c.path("update-3.json");
    approve_update(&c, "suzuki", &new, Some(&u2), &u3);
    let u3 = u3.to_str().unwrap();
    let a = c.json(&["announce-policy", &new, "--update", u3]);
    assert_eq!(
        a["usable_at"].as_u64().unwrap(),
        a["height"].as_u64().unwrap() + 6
    );
    let err = c.fails(&["init", &new, "--replace-policy", "--update", u3], 1);
    assert!(err.contains("6 block(s) to go"), "{err}");
    node.mine_elsewhere(6);
    let init = c.json(&["init", &new, "--replace-policy", "--update", u3]);
    assert_eq!(init["action"], "replaced");
    for key in ["hot-1", "hot-3"] {
        assert_eq!(register(&c, key, &new, Some(Path::new(u3))), 0, "{key}");
    }

    // The new address is paid under the new policy, signed by both.
    let p = propose_payout(&c, "payout", &format!("{ADDED},0.5 BTC\n"));
    let signed: Vec<PathBuf> = ["hot-1", "hot-3"]
        .iter()
        .map(|k| sign_as(&c, k, &p))
        .collect();
    finalize_and_send(&node, &c, &signed, "payout");

    // The auditor lists the change with the approvals it verified.
    let log = events.to_str().unwrap();
    let (code, out, err) = auditor(
        &node,
        &[
            "reconcile",
            "--policy",
            &new,
            "--policy",
            &old,
            "--log",
            log,
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let change = &v["policy_changes"]["changes"][0];
    assert_eq!(change["governed"], true);
    assert_eq!(change["approvers"], json!(["ito", "sato", "suzuki"]));
    assert!(change["findings"].as_array().unwrap().is_empty());
}

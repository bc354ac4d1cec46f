//! Property tests of the policy parser: any valid policy survives serialize →
//! parse with the same id; layout and entry order never change the id, meaning
//! always does; arbitrary input never panics.

use std::collections::BTreeMap;

use custodia::policy::{PolicyFile, Problem, VaultPolicy};
use proptest::prelude::*;
use proptest::sample::subsequence;

#[derive(serde::Deserialize)]
struct TestKeys {
    keys: Vec<TestKey>,
    approvers: Vec<TestApprover>,
}
#[derive(serde::Deserialize)]
struct TestKey {
    id: String,
    wsh_xpub: String,
}
#[derive(serde::Deserialize, Clone)]
struct TestApprover {
    id: String,
    department: String,
    pubkey: String,
}

fn test_keys() -> TestKeys {
    let text = include_str!("data/test-keys.toml");
    toml::from_str(text).unwrap()
}

const PAYEES: [&str; 3] = [
    "bcrt1qn6y5jd4gp208cx6px2crc48dvkc5k3028w88ml",
    "bcrt1qgdkc6pm0dca7gv44juwa0ks43u3qe2jehqn8hu",
    "bcrt1q4z607574hehmxrjqsvg6v8fmds3dfjpeafc4ua",
];

#[derive(Debug, Clone)]
struct Shape {
    cold: Vec<String>,
    cold_k: usize,
    cold_tr: bool,
    recovery: Option<(u16, usize, bool)>,
    hot: Vec<String>,
    hot_k: usize,
    hot_tr: bool,
    approvers: Vec<usize>,
    min_approvals: usize,
    min_departments: prop::sample::Index,
    amounts: [u64; 5],
    payees: Vec<&'static str>,
    allow_any: bool,
    feerate_kvb: u64,
    cold_min: u8,
    hot_target: u8,
    max_index: Option<u32>,
}

fn shape() -> impl Strategy<Value = Shape> {
    let cold_ids: Vec<String> = (1..=5).map(|i| format!("cold-{i}")).collect();
    let hot_ids: Vec<String> = (1..=3).map(|i| format!("hot-{i}")).collect();
    (
        subsequence(cold_ids, 1..=5),
        subsequence(hot_ids, 1..=3),
        any::<(bool, bool)>(),
        proptest::option::of((1u16..=u16::MAX, any::<bool>())),
        subsequence(vec![0usize, 1, 2, 3], 1..=4),
        proptest::array::uniform5(0u64..=2_100_000_000_000_000),
        (subsequence(PAYEES.to_vec(), 0..=3), any::<bool>()),
        0u64..=10_000_000,
        (
            0u8..=100,
            any::<prop::sample::Index>(),
            any::<[prop::sample::Index; 5]>(),
        ),
        proptest::option::of(0u32..=100_000),
    )
        .prop_map(
            |(
                cold,
                hot,
                (cold_tr, hot_tr),
                rec,
                approvers,
                amounts,
                (payees, allow_any),
                feerate_kvb,
                (cold_min, t, ix),
                max_index,
            )| {
                let cold_k = ix[0].index(cold.len()) + 1;
                let hot_k = ix[1].index(hot.len()) + 1;
                let recovery =
                    rec.map(|(after, with_extra)| (after, ix[2].index(2) + 1, with_extra));
                let min_approvals = ix[3].index(approvers.len()) + 1;
                Shape {
                    cold,
                    cold_k,
                    cold_tr,
                    recovery,
                    hot,
                    hot_k,
                    hot_tr,
                    approvers,
                    min_approvals,
                    min_departments: ix[4],
                    amounts,
                    payees,
                    allow_any,
                    feerate_kvb,
                    cold_min,
                    hot_target: t.index(usize::from(100 - cold_min) + 1) as u8,
                    max_index,
                }
            },
        )
}

fn build(s: &Shape) -> PolicyFile {
    use custodia::policy::{format_amount, FeeRateLimit};
    let tk = test_keys();
    let xpubs: BTreeMap<&str, &str> = tk
        .keys
        .iter()
        .map(|k| (k.id.as_str(), k.wsh_xpub.as_str()))
        .collect();
    let approvers: Vec<TestApprover> = s
        .approvers
        .iter()
        .map(|i| tk.approvers[*i].clone())
        .collect();
    let departments = approvers
        .iter()
        .map(|a| &a.department)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let mut used: Vec<String> = s.cold.iter().chain(&s.hot).cloned().collect();
    let recovery = s.recovery.map(|(after, k, extra)| {
        let mut keys = vec![s.cold[0].clone()];
        if extra {
            keys.push("recovery-1".to_owned());
            used.push("recovery-1".to_owned());
        }
        format!(
            "recovery = {{ after_blocks = {after}, threshold = {}, keys = {:?} }}\n",
            k.min(keys.len()),
            keys
        )
    });
    let sat = |i: usize| format_amount(bitcoin::Amount::from_sat(s.amounts[i]));
    let (c_max, c_daily) = (
        s.amounts[0].min(s.amounts[1]),
        s.amounts[0].max(s.amounts[1]),
    );
    let (p_max, p_daily) = (
        s.amounts[2].min(s.amounts[3]),
        s.amounts[2].max(s.amounts[3]),
    );
    let amt = |v: u64| format_amount(bitcoin::Amount::from_sat(v));
    let mut t = String::from("[vault]\nname = \"prop-vault\"\nnetwork = \"regtest\"\n\n");
    for id in &used {
        t += &format!(
            "[[keys]]\nid = \"{id}\"\nholder = \"dept-{id}\"\nlocation = \"site-{id}\"\nxpub = \"{}\"\n\n",
            xpubs[id.as_str()]
        );
    }
    let script = |tr: bool| if tr { "tr" } else { "wsh" };
    t += &format!(
        "[wallets.cold]\nthreshold = {}\nkeys = {:?}\nscript = \"{}\"\n{}\n",
        s.cold_k,
        s.cold,
        script(s.cold_tr),
        recovery.unwrap_or_default()
    );
    t += &format!(
        "[wallets.hot]\nthreshold = {}\nkeys = {:?}\nscript = \"{}\"\n\n",
        s.hot_k,
        s.hot,
        script(s.hot_tr)
    );
    for a in &approvers {
        t += &format!(
            "[[approvers]]\nid = \"{}\"\ndepartment = \"{}\"\npubkey = \"{}\"\n\n",
            a.id, a.department, a.pubkey
        );
    }
    t += &format!(
        "[rules.cold_to_hot]\nmin_approvals = {}\nmin_departments = {}\nmax_amount = \"{}\"\ndaily_limit = \"{}\"\n\n",
        s.min_approvals,
        s.min_departments.index(departments.min(s.min_approvals)) + 1,
        amt(c_max),
        amt(c_daily)
    );
    if s.allow_any {
        t += "[rules.payouts]\nallow_any = true\n";
    } else {
        t += &format!("[rules.payouts]\nallowlist = {:?}\n", s.payees);
    }
    t += &format!(
        "max_amount = \"{}\"\ndaily_limit = \"{}\"\n\n",
        amt(p_max),
        amt(p_daily)
    );
    t += &format!(
        "[rules.fees]\nmax_feerate = \"{}\"\nmax_fee = \"{}\"\n\n",
        FeeRateLimit::from_sat_per_kvb(s.feerate_kvb),
        sat(4)
    );
    t += &format!(
        "[rules.ratio]\ncold_min_percent = {}\nhot_target_percent = {}\n",
        s.cold_min, s.hot_target
    );
    if let Some(max) = s.max_index {
        t += &format!("\n[rules.addresses]\nmax_index = {max}\n");
    }
    toml::from_str(&t).unwrap_or_else(|e| panic!("generated policy is not TOML: {e}\n{t}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn valid_policy_round_trips_with_the_same_id(s in shape()) {
        let file = build(&s);
        let policy = VaultPolicy::from_file(&file).unwrap_or_else(|e| panic!("{e}\n{s:?}"));
        let text = policy.to_toml();
        let again = VaultPolicy::from_toml(&text).unwrap();
        prop_assert_eq!(again.id(), policy.id());
        prop_assert_eq!(&again, &policy);
        // The id does not depend on the order of entries in the file.
        let mut shuffled = file.clone();
        shuffled.keys.reverse();
        shuffled.approvers.reverse();
        shuffled.wallets.cold.keys.reverse();
        shuffled.rules.payouts.allowlist.reverse();
        prop_assert_eq!(VaultPolicy::from_file(&shuffled).unwrap().id(), policy.id());
    }

    #[test]
    fn any_change_of_meaning_changes_the_id(s in shape()) {
        let file = build(&s);
        let policy = VaultPolicy::from_file(&file).unwrap();
        let mut renamed = file.clone();
        renamed.vault.name.push('x');
        prop_assert_ne!(VaultPolicy::from_file(&renamed).unwrap().id(), policy.id());
        let mut relocated = file.clone();
        relocated.keys[0].location.push('x');
        prop_assert_ne!(VaultPolicy::from_file(&relocated).unwrap().id(), policy.id());
        let mut fees = file.clone();
        fees.rules.fees.max_fee = format!("{} sat", policy.rules().fees().max_fee().to_sat() + 1);
        prop_assert_ne!(VaultPolicy::from_file(&fees).unwrap().id(), policy.id());
        // The address range binds every program, so it is part of the id.
        let max = policy.rules().addresses().max_index();
        let mut range = file;
        let other = if max == 0 { 1 } else { max - 1 };
        range.rules.addresses = Some(toml::from_str(&format!("max_index = {other}")).unwrap());
        prop_assert_ne!(VaultPolicy::from_file(&range).unwrap().id(), policy.id());
    }

    #[test]
    fn a_max_index_out_of_range_is_refused(s in shape(), max in prop_oneof![i64::MIN..0, 100_001i64..]) {
        let mut file = build(&s);
        file.rules.addresses = Some(toml::from_str(&format!("max_index = {max}")).unwrap());
        let refused = VaultPolicy::from_file(&file).unwrap_err();
        prop_assert!(
            matches!(refused.problem(), Some(Problem::MaxIndexOutOfRange(m)) if *m == max),
            "{refused:?}"
        );
    }

    #[test]
    fn parser_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = VaultPolicy::from_toml(&text);
    }

    #[test]
    fn parser_never_panics_on_mutated_policies(pos in 0usize..6000, len in 0usize..40, junk in "\\PC{0,12}") {
        let base = include_str!("../policies/regtest-recovery.toml");
        let mut text = base.to_owned();
        let start = pos.min(text.len());
        let start = (0..=start).rev().find(|i| text.is_char_boundary(*i)).unwrap();
        let end = (start + len).min(text.len());
        let end = (end..=text.len()).find(|i| text.is_char_boundary(*i)).unwrap();
        text.replace_range(start..end, &junk);
        let _ = VaultPolicy::from_toml(&text);
    }
}

#[test]
fn layout_and_comments_do_not_change_the_id() {
    let text = include_str!("../policies/regtest-exchange.toml");
    let policy = VaultPolicy::from_toml(text).unwrap();
    let relaid: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| l.replace(" = ", "="))
        .collect::<Vec<_>>()
        .join("\n\n# a comment\n");
    assert_eq!(VaultPolicy::from_toml(&relaid).unwrap().id(), policy.id());
    // The default address range, written out or left out, is one policy.
    assert_eq!(policy.rules().addresses().max_index(), 1000);
    let implicit = text
        .replace("[rules.addresses]", "")
        .replace("max_index = 1000", "");
    assert_eq!(VaultPolicy::from_toml(&implicit).unwrap().id(), policy.id());
    // Amounts written differently but meaning the same.
    let same = text.replace("max_amount = \"5 BTC\"", "max_amount = \"500000000 sat\"");
    assert_eq!(VaultPolicy::from_toml(&same).unwrap().id(), policy.id());
}

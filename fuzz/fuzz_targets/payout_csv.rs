//! The coordinator's payout file (`address,amount` rows): any text is
//! refused with a line and a reason, or read into payouts that are what the
//! file says: one per row, on the row's line, to an address of the vault's
//! network, listed once, for an amount above zero.
#![no_main]

use bitcoin::address::NetworkUnchecked;
use bitcoin::{Address, Amount, Network};
use custodia::coordinator::parse_payouts;
use libfuzzer_sys::fuzz_target;

const NETWORKS: [Network; 4] = [
    Network::Bitcoin,
    Network::Testnet,
    Network::Signet,
    Network::Regtest,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let network = NETWORKS[usize::from(pick) % NETWORKS.len()];
    match parse_payouts(text, network) {
        Ok(payouts) => {
            assert!(!payouts.is_empty());
            let lines: Vec<&str> = text.lines().collect();
            let mut last_line = 0;
            let mut seen = std::collections::BTreeSet::new();
            for p in &payouts {
                assert!(p.line > last_line, "payouts out of file order");
                last_line = p.line;
                assert!(p.amount > Amount::ZERO);
                assert!(p.address.as_unchecked().is_valid_for_network(network));
                assert!(seen.insert(p.address.clone()), "an address listed twice");
                // The payout's line holds its address.
                let row = lines[p.line - 1];
                let address: Address<NetworkUnchecked> = row
                    .split(',')
                    .next()
                    .expect("a row")
                    .trim()
                    .parse()
                    .expect("the row's address parses");
                assert_eq!(address.assume_checked(), p.address);
            }
        }
        Err((line, reason)) => {
            assert!(
                line <= text.lines().count(),
                "an error on line {line} past the end"
            );
            assert!(!reason.is_empty());
        }
    }
});

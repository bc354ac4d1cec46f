//! Any text given to the policy parser is either refused with an error or
//! gives a policy whose canonical form parses back to the same id.
#![no_main]

use custodia::policy::VaultPolicy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(policy) = VaultPolicy::from_toml(text) {
        let again = VaultPolicy::from_toml(&policy.to_toml()).expect("canonical form parses");
        assert_eq!(again.id(), policy.id());
    }
});

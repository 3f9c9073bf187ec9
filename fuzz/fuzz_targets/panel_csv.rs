//! The fast path of `grassroots evaluate`'s panel CSV reader (crates/cli/src/evaluate/panel_csv.rs, compiled here as
//! it is in the binary), against the general path it stands in for: whenever the fast path reads a body, the `csv`
//! crate with `str::parse` reads the same records and the same numbers, bit for bit; anything else it gives up on.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../crates/cli/src/evaluate/panel_csv.rs"]
mod panel_csv;

use panel_csv::{Outputs, Role, count_newlines, parse_into};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    // Up to four columns, each skipped, an integer or a decimal.
    let columns = 1 + usize::from(selector & 3);
    let mut roles = Vec::new();
    let (mut ints, mut floats) = (0, 0);
    for c in 0..columns {
        roles.push(match (selector >> (2 + 2 * c)) & 3 {
            0 => Role::Skip,
            1 => {
                ints += 1;
                Role::Int(ints - 1)
            }
            _ => {
                floats += 1;
                Role::Float(floats - 1)
            }
        });
    }
    let capacity = count_newlines(body) + 1;
    let mut int_columns = vec![vec![0i64; capacity]; ints];
    let mut float_columns = vec![vec![0f64; capacity]; floats];
    let rows = {
        let mut out = Outputs {
            ints: int_columns.iter_mut().map(|c| c.as_mut_slice()).collect(),
            floats: float_columns.iter_mut().map(|c| c.as_mut_slice()).collect(),
        };
        parse_into(body, &roles, &mut out)
    };
    let Some(rows) = rows else {
        return;
    };
    // The general path: the csv crate, no header (the body has none), records of exactly `columns` fields.
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(body);
    let mut row = 0;
    for record in reader.byte_records() {
        let record = record.expect("the fast path read what the csv crate refuses");
        assert_eq!(record.len(), columns, "row {row}: fields");
        for (c, role) in roles.iter().enumerate() {
            let text = std::str::from_utf8(&record[c]).ok();
            match *role {
                Role::Skip => {}
                Role::Int(slot) => {
                    let expected: i64 = text.and_then(|t| t.parse().ok()).expect("an integer");
                    assert_eq!(int_columns[slot][row], expected, "row {row} column {c}");
                }
                Role::Float(slot) => {
                    let expected: f64 = text.and_then(|t| t.parse().ok()).expect("a decimal");
                    assert_eq!(float_columns[slot][row].to_bits(), expected.to_bits(), "row {row} column {c}");
                }
            }
        }
        row += 1;
    }
    assert_eq!(rows, row, "records");
});

//! The fast path of `grassroots evaluate`'s CSV reader: plain unquoted numeric CSV parsed
//! straight into preallocated columns, one pass per chunk, no per-row allocation.
//!
//! Anything it does not read exactly as the general path would (quotes, a lone carriage
//! return, a field count other than the header's, an empty or non-decimal number, a
//! number it cannot round exactly) makes it give up with `None`; the caller then parses
//! the file with the `csv` crate, which also gives the error messages. Numbers it does
//! read are bit-identical to `str::parse`.

/// What a CSV column is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Not read.
    Skip,
    /// An integer column, stored in the given integer output.
    Int(usize),
    /// A decimal column, stored in the given float output.
    Float(usize),
}

/// Output columns of one chunk: row `r` of the chunk goes to index `r` of each.
pub(crate) struct Outputs<'a> {
    pub ints: Vec<&'a mut [i64]>,
    pub floats: Vec<&'a mut [f64]>,
}

/// Number of newlines in `body`.
pub(crate) fn count_newlines(body: &[u8]) -> usize {
    // Byte counters over 255-byte blocks vectorise well (a per-byte `usize` count does not).
    body.chunks(255)
        .map(|block| usize::from(block.iter().fold(0u8, |n, &b| n + u8::from(b == b'\n'))))
        .sum()
}

/// Number of records a chunk can hold at most: its lines (a final line without a newline
/// included).
#[cfg(test)]
fn count_lines(body: &[u8]) -> usize {
    count_newlines(body) + usize::from(body.last().is_some_and(|&b| b != b'\n'))
}

/// Parses `body` (records without the header) into `out`; returns the number of records
/// or `None` where the general path must take over. Empty lines are skipped, as the
/// `csv` crate does.
pub(crate) fn parse_into(body: &[u8], roles: &[Role], out: &mut Outputs<'_>) -> Option<usize> {
    let len = body.len();
    let last = roles.len().checked_sub(1)?;
    let mut i = 0;
    let mut row = 0;
    while i < len {
        // Empty lines ("\n" or "\r\n").
        match body[i] {
            b'\n' => {
                i += 1;
                continue;
            }
            b'\r' if body.get(i + 1) == Some(&b'\n') => {
                i += 2;
                continue;
            }
            _ => {}
        }
        for (f, role) in roles.iter().enumerate() {
            match *role {
                Role::Skip => {
                    while i < len {
                        match body[i] {
                            b',' | b'\n' | b'\r' => break,
                            b'"' => return None,
                            _ => i += 1,
                        }
                    }
                }
                Role::Int(slot) => {
                    let (v, next) = int_at(body, i)?;
                    *out.ints.get_mut(slot)?.get_mut(row)? = v;
                    i = next;
                }
                Role::Float(slot) => {
                    let (v, next) = float_at(body, i)?;
                    *out.floats.get_mut(slot)?.get_mut(row)? = v;
                    i = next;
                }
            }
            // The delimiter after the field.
            if f < last {
                if body.get(i) != Some(&b',') {
                    return None;
                }
                i += 1;
            } else {
                match body.get(i) {
                    None => {}
                    Some(b'\n') => i += 1,
                    Some(b'\r') if body.get(i + 1) == Some(&b'\n') => i += 2,
                    Some(_) => return None,
                }
            }
        }
        row += 1;
    }
    Some(row)
}

/// Eight ASCII digits (little-endian in `chunk`) as their value, if all are digits
/// (the SWAR conversion of fast_float / simdjson).
fn eight_digits(chunk: u64) -> Option<u64> {
    let all_digits = ((chunk & 0xF0F0_F0F0_F0F0_F0F0)
        | ((chunk.wrapping_add(0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4))
        == 0x3333_3333_3333_3333;
    if !all_digits {
        return None;
    }
    let v = chunk.wrapping_sub(0x3030_3030_3030_3030);
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let v = ((v & 0x0000_00FF_0000_00FF)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32))))
        >> 32;
    Some(v)
}

/// Accumulates the decimal digits starting at `i` into `m` (eight at a time first if
/// `swar`, for long runs such as fractions); returns the position after them and how
/// many there were. Gives up (`None`) beyond 19 digits, where `m` could
/// overflow.
fn digits_at(body: &[u8], mut i: usize, m: &mut u64, count: &mut usize, swar: bool) -> Option<usize> {
    while swar && *count + 8 <= 19 {
        let Some(chunk) = body.get(i..i + 8) else { break };
        let Some(v) = chunk.try_into().ok().map(u64::from_le_bytes).and_then(eight_digits) else {
            break;
        };
        *m = *m * 100_000_000 + v;
        *count += 8;
        i += 8;
    }
    while let Some(&b) = body.get(i) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if *count >= 19 {
            return None;
        }
        *m = *m * 10 + u64::from(d);
        *count += 1;
        i += 1;
    }
    Some(i)
}

/// An optional sign at `i`: (negative, position after it).
fn sign_at(body: &[u8], i: usize) -> (bool, usize) {
    match body.get(i) {
        Some(b'-') => (true, i + 1),
        Some(b'+') => (false, i + 1),
        _ => (false, i),
    }
}

/// A plain decimal integer (`[+-]?[0-9]{1,18}`) starting at `i`, and the position after it.
fn int_at(body: &[u8], i: usize) -> Option<(i64, usize)> {
    let (neg, start) = sign_at(body, i);
    let (mut m, mut count) = (0u64, 0usize);
    let end = digits_at(body, start, &mut m, &mut count, false)?;
    if count == 0 || count > 18 {
        return None;
    }
    let v = m as i64;
    Some((if neg { -v } else { v }, end))
}

/// Powers of ten exactly representable as f64.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// A decimal number `[+-]?digits[.digits][(e|E)[+-]?digits]` starting at `i`, by
/// Clinger's fast path: when the digits form an integer m ≤ 2⁵³ and the decimal exponent
/// |e| ≤ 22, m and 10^|e| are exact doubles and one IEEE multiplication or division
/// rounds correctly, so the result is bit-identical to `str::parse::<f64>`. Anything
/// else is `None`.
fn float_at(body: &[u8], i: usize) -> Option<(f64, usize)> {
    let (neg, start) = sign_at(body, i);
    let (mut m, mut count) = (0u64, 0usize);
    let mut i = digits_at(body, start, &mut m, &mut count, false)?;
    let int_digits = count;
    let mut exp: i64 = 0;
    if body.get(i) == Some(&b'.') {
        i = digits_at(body, i + 1, &mut m, &mut count, true)?;
        exp = -((count - int_digits) as i64);
    }
    if count == 0 {
        return None;
    }
    if let Some(b'e' | b'E') = body.get(i) {
        let (eneg, estart) = sign_at(body, i + 1);
        let (mut e, mut edigits) = (0u64, 0usize);
        i = digits_at(body, estart, &mut e, &mut edigits, false)?;
        if edigits == 0 || edigits > 4 {
            return None;
        }
        exp += if eneg { -(e as i64) } else { e as i64 };
    }
    if m > (1u64 << 53) || exp.abs() > 22 {
        return None;
    }
    let v = m as f64;
    let v = if exp >= 0 {
        v * POW10[exp as usize]
    } else {
        v / POW10[(-exp) as usize]
    };
    Some((if neg { -v } else { v }, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, roles: &[Role], ints: usize, floats: usize) -> Option<(Vec<Vec<i64>>, Vec<Vec<f64>>)> {
        let rows = count_lines(text.as_bytes());
        let mut int_cols = vec![vec![0i64; rows]; ints];
        let mut float_cols = vec![vec![0f64; rows]; floats];
        let mut out = Outputs {
            ints: int_cols.iter_mut().map(Vec::as_mut_slice).collect(),
            floats: float_cols.iter_mut().map(Vec::as_mut_slice).collect(),
        };
        let n = parse_into(text.as_bytes(), roles, &mut out)?;
        int_cols.iter_mut().for_each(|c| c.truncate(n));
        float_cols.iter_mut().for_each(|c| c.truncate(n));
        Some((int_cols, float_cols))
    }

    #[test]
    fn numbers_are_bit_identical_to_str_parse() {
        let samples = [
            "0",
            "-0",
            "1",
            "+7",
            "12345678",
            "123456789",
            "-1.418095093",
            "3.1415926535897",
            "1e5",
            "2.5E-3",
            "1.",
            ".5",
            "-0.000001234",
            "98765432.1234567",
            "0.1",
            "1.e5",
            "1234567890123456",
            "9007199254740992",
            "4.35",
            "1e22",
        ];
        for s in samples {
            let got = float_at(s.as_bytes(), 0).map(|(v, end)| (v.to_bits(), end));
            let want = s.parse::<f64>().ok().map(|v| (v.to_bits(), s.len()));
            assert_eq!(got, want, "{s}");
        }
        // Beyond the exact fast path: left to the general parser.
        for s in [
            "9007199254740993",
            "98765432.12345678",
            "1e23",
            "12345678901234567890",
            "",
            "-",
            "1e",
            "nan",
            "inf",
        ] {
            assert_eq!(
                float_at(s.as_bytes(), 0).filter(|&(_, end)| end == s.len()),
                None,
                "{s}"
            );
        }
        for s in ["0", "-12", "+3", "123456789012345678", "20040101"] {
            assert_eq!(
                int_at(s.as_bytes(), 0),
                s.parse::<i64>().ok().map(|v| (v, s.len())),
                "{s}"
            );
        }
        assert_eq!(int_at(b"1234567890123456789", 0), None);
    }

    #[test]
    fn lines_are_counted_across_blocks() {
        let text: String = (0..1000).map(|i| format!("{i},{}\n", i * 7)).collect();
        assert_eq!(count_lines(text.as_bytes()), 1000);
        assert_eq!(count_lines(b"a\nb"), 2);
        assert_eq!(count_lines(b""), 0);
    }

    #[test]
    fn rows_go_to_their_columns_and_oddities_give_up() {
        let roles = [Role::Int(0), Role::Skip, Role::Float(0)];
        let parsed = parse("1,a,2.5\n2,b,-3\r\n\n3,c,1e2", &roles, 1, 1);
        assert_eq!(parsed, Some((vec![vec![1, 2, 3]], vec![vec![2.5, -3.0, 100.0]])));
        for text in [
            "1,\"a\",2.5\n",
            "1,a\n",
            "1,a,2.5,9\n",
            "1,a,\n",
            "1,a,2.5\r3,b,4\n",
            "1.5,a,2\n",
            "1,a,NA\n",
        ] {
            assert_eq!(parse(text, &roles, 1, 1), None, "{text:?}");
        }
    }
}

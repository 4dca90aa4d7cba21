//! JavaScript `Number(string)` coercion, for the places where the reference parsers use it on
//! wire input (attachment counts, ack ids, v3 length prefixes).

/// JS `WhiteSpace` and `LineTerminator` code points, which `Number()` trims.
pub(crate) fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// `Number(s)` for the non-negative integers the callers accept: `None` for `NaN`,
/// fractions, negatives and values above 2^53 (all rejected by every caller).
pub(crate) fn to_integer(s: &str) -> Option<u64> {
    let t = s.trim_matches(is_js_whitespace);
    if t.is_empty() {
        return Some(0);
    }
    let radix = |prefix: &str, radix| {
        t.strip_prefix(prefix)
            .or_else(|| t.strip_prefix(&prefix.to_ascii_uppercase()))
            .map(|digits| {
                // `from_str_radix` would also take a sign, which JS refuses after a prefix.
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    None
                } else {
                    u64::from_str_radix(digits, radix).ok()
                }
            })
    };
    if let Some(v) = radix("0x", 16)
        .or_else(|| radix("0o", 8))
        .or_else(|| radix("0b", 2))
    {
        return v.filter(|&v| v <= MAX_SAFE);
    }
    let unsigned = t.strip_prefix('+').unwrap_or(t);
    // The StrDecimalLiteral grammar: digits with optional fraction and exponent. Rust's
    // parser also takes "inf"/"nan", which JS spells differently, so check the grammar first.
    let valid = unsigned
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && unsigned
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.');
    if !valid {
        return None;
    }
    let value: f64 = unsigned.parse().ok()?;
    let int = value as u64;
    let exact = value >= 0.0 && value <= MAX_SAFE as f64 && int as f64 == value;
    exact.then_some(int)
}

const MAX_SAFE: u64 = (1 << 53) - 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coerces_like_javascript() {
        for (s, v) in [
            ("1", Some(1)),
            (" 1", Some(1)),
            ("01", Some(1)),
            ("1.0", Some(1)),
            ("1e1", Some(10)),
            ("0x1", Some(1)),
            ("+2", Some(2)),
            ("", Some(0)),
            ("  ", Some(0)),
            ("1.5", None),
            ("a", None),
            ("1 2", None),
            ("Infinity", None),
            ("inf", None),
            ("-1", None),
            ("0x", None),
            ("0x+1", None),
            ("0b-1", None),
            ("0o+7", None),
        ] {
            assert_eq!(to_integer(s), v, "{s:?}");
        }
    }
}

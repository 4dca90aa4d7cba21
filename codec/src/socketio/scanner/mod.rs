//! A JSON scanner: checks JSON text (RFC 8259, as `JSON.parse` reads it) in one pass and
//! reports its tokens to a callback, without building values and without allocating.
//!
//! Why not serde_json for this: the payload-shape and placeholder checks need a few facts
//! about a value (its kind, the first array element, two object keys), not a value. The
//! scanner gives them without serde_json's quirks in that role: no scratch allocation for
//! nested containers or escaped strings, no recursion limit (the nesting is kept in a bit
//! register, on the heap only past [`INLINE_DEPTH`] levels), numbers checked by their grammar
//! only (`1e400` is valid JSON, as in JavaScript) and exact byte offsets for errors.
//!
//! Escaped unpaired UTF-16 surrogates (`"\ud800"`) are valid, as in `JSON.parse` (the reference
//! encoder writes them for strings holding half a character); such a string equals no Rust
//! string in [`JsonStr::decodes_to`].

use alloc::vec::Vec;

// The fast validator where the build has SSE2 (every x86-64 target by default); elsewhere
// `validate` is the scalar scan alone.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod blocks;
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod fast;

/// Checks `json` as [`scan`] does, without tokens: the fast validator first where the
/// target has one and the text fills two blocks, the scalar scan for shorter texts and for
/// the error's exact offset when the fast validator says no. Builds with debug assertions
/// (tests, fuzzing) check that the two agree on every text the fast validator sees.
pub(crate) fn validate(json: &str) -> Result<(), usize> {
    // Below two blocks the scalar scan is as fast or faster: the fast validator's fixed costs
    // (the padded last block, the escape walk) are not paid back. Measured on the benches'
    // `tiny_event` (20 bytes of JSON) and `unicode_event` (70 bytes, with escapes).
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if json.len() >= 128 {
        let valid = fast::is_valid(json);
        debug_assert_eq!(
            valid,
            scan(json, |_, _| {}).is_ok(),
            "the fast validator disagrees with the scalar scan on {json:?}"
        );
        if valid {
            return Ok(());
        }
    }
    scan(json, |_, _| {})
}

/// A token of the scanned text, in document order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    ObjectStart,
    ObjectEnd,
    ArrayStart,
    ArrayEnd,
    /// An object key.
    Key(JsonStr<'a>),
    String(JsonStr<'a>),
    /// A number, as written.
    Number(&'a str),
    True,
    False,
    Null,
}

/// A JSON string as written between its quotes (escapes not decoded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct JsonStr<'a> {
    raw: &'a str,
    escaped: bool,
}

impl JsonStr<'_> {
    /// Whether the decoded string equals `text`, decoding escapes on the fly.
    pub(crate) fn decodes_to(&self, text: &str) -> bool {
        if !self.escaped {
            return self.raw == text;
        }
        let mut expected = text.chars();
        let mut raw = self.raw.chars();
        while let Some(c) = raw.next() {
            let decoded = if c == '\\' {
                unescape(&mut raw)
            } else {
                Some(c)
            };
            if decoded.is_none() || decoded != expected.next() {
                return false;
            }
        }
        expected.next().is_none()
    }
}

/// The character of one escape sequence whose backslash was just read (the text was
/// validated by [`scan`]).
fn unescape(raw: &mut core::str::Chars<'_>) -> Option<char> {
    let simple = match raw.next()? {
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'u' => {
            let unit = hex4(raw.as_str().as_bytes())?;
            raw.nth(3);
            if !(0xD800..0xDC00).contains(&unit) {
                // Lone low surrogates are `None` here.
                return char::from_u32(u32::from(unit));
            }
            // A high surrogate, paired only if `\uDC00`-`\uDFFF` follows.
            let rest = raw.as_str().as_bytes();
            let low = hex4(rest.get(2..)?)
                .filter(|low| rest.starts_with(b"\\u") && (0xDC00..0xE000).contains(low))?;
            raw.nth(5);
            let code = 0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
            return char::from_u32(code);
        }
        other => other, // `"`, `\`, `/`
    };
    Some(simple)
}

/// Four hex digits at the start of `bytes`.
fn hex4(bytes: &[u8]) -> Option<u16> {
    let digits = bytes.get(..4)?;
    digits.iter().try_fold(0u16, |acc, &b| {
        let digit = (b as char).to_digit(16)?;
        Some(acc << 4 | digit as u16)
    })
}

/// Nesting depth kept in a register; deeper documents spill to the heap (one bit per level).
pub(crate) const INLINE_DEPTH: usize = 64;

/// The open containers, one bit each (set: object).
struct Nesting {
    /// The outermost 64 levels, bit `n` for level `n`.
    inline: u64,
    /// Levels 64 and deeper, one `bool` each.
    spill: Vec<bool>,
    depth: usize,
}

impl Nesting {
    const fn new() -> Self {
        Self {
            inline: 0,
            spill: Vec::new(),
            depth: 0,
        }
    }

    #[inline]
    fn push(&mut self, object: bool) {
        if self.depth < INLINE_DEPTH {
            let bit = 1 << self.depth;
            self.inline = if object {
                self.inline | bit
            } else {
                self.inline & !bit
            };
        } else {
            self.spill.truncate(self.depth - INLINE_DEPTH);
            self.spill.push(object);
        }
        self.depth += 1;
    }

    /// Whether the innermost open container is an object; `None` at the top level.
    #[inline]
    fn top(&self) -> Option<bool> {
        let level = self.depth.checked_sub(1)?;
        if level < INLINE_DEPTH {
            Some(self.inline >> level & 1 == 1)
        } else {
            self.spill.get(level - INLINE_DEPTH).copied()
        }
    }

    #[inline]
    fn pop(&mut self) {
        self.depth -= 1;
    }
}

/// Scans `json` (one value, surrounded by optional whitespace), calling `visit` for each
/// token with its offset (for an end token, the offset of its bracket). On a syntax error, the byte offset of the offending character (the length of the
/// text when it ends too early); tokens before it have been visited.
pub(crate) fn scan<'a>(
    json: &'a str,
    mut visit: impl FnMut(Token<'a>, usize),
) -> Result<(), usize> {
    let b = json.as_bytes();
    let mut nesting = Nesting::new();
    let mut i = 0;
    loop {
        // A value starts here.
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b'{') => {
                visit(Token::ObjectStart, i);
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b'}') {
                    visit(Token::ObjectEnd, i);
                    i += 1;
                } else {
                    nesting.push(true);
                    i = key(json, i, &mut visit)?;
                    continue;
                }
            }
            Some(b'[') => {
                visit(Token::ArrayStart, i);
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b']') {
                    visit(Token::ArrayEnd, i);
                    i += 1;
                } else {
                    nesting.push(false);
                    continue;
                }
            }
            Some(b'"') => {
                let (s, end) = string(json, i)?;
                visit(Token::String(s), i);
                i = end;
            }
            Some(b't') => i = literal(b, i, b"true", Token::True, &mut visit)?,
            Some(b'f') => i = literal(b, i, b"false", Token::False, &mut visit)?,
            Some(b'n') => i = literal(b, i, b"null", Token::Null, &mut visit)?,
            Some(b'-' | b'0'..=b'9') => {
                let end = number(b, i)?;
                visit(Token::Number(&json[i..end]), i);
                i = end;
            }
            _ => return Err(i),
        }
        // After a value: close containers until one continues with a comma.
        loop {
            i = skip_ws(b, i);
            let Some(object) = nesting.top() else {
                return if i == b.len() { Ok(()) } else { Err(i) };
            };
            match (b.get(i), object) {
                (Some(b','), false) => {
                    i += 1;
                    break;
                }
                (Some(b','), true) => {
                    i = key(json, skip_ws(b, i + 1), &mut visit)?;
                    break;
                }
                (Some(b']'), false) => {
                    nesting.pop();
                    visit(Token::ArrayEnd, i);
                    i += 1;
                }
                (Some(b'}'), true) => {
                    nesting.pop();
                    visit(Token::ObjectEnd, i);
                    i += 1;
                }
                _ => return Err(i),
            }
        }
    }
}

/// The first token of `json` and, when it opens an array, the array's first token (its
/// first element, or its end): all a payload-shape check needs. For text [`scan`] accepted.
pub(crate) fn head(json: &str) -> (Option<Token<'_>>, Option<Token<'_>>) {
    let b = json.as_bytes();
    let start = skip_ws(b, 0);
    let first = token_at(json, start);
    let second = match first {
        Some(Token::ArrayStart) => {
            let i = skip_ws(b, start + 1);
            match b.get(i) {
                Some(b']') => Some(Token::ArrayEnd),
                _ => token_at(json, i),
            }
        }
        _ => None,
    };
    (first, second)
}

/// The token starting at `i` (a value's start), if it is well-formed.
fn token_at(json: &str, i: usize) -> Option<Token<'_>> {
    let b = json.as_bytes();
    Some(match b.get(i)? {
        b'{' => Token::ObjectStart,
        b'[' => Token::ArrayStart,
        b'"' => Token::String(string(json, i).ok()?.0),
        b't' => Token::True,
        b'f' => Token::False,
        b'n' => Token::Null,
        _ => Token::Number(&json[i..number(b, i).ok()?]),
    })
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// `"key" ws ":"` at `i`; returns the offset after the colon.
fn key<'a>(
    json: &'a str,
    i: usize,
    visit: &mut impl FnMut(Token<'a>, usize),
) -> Result<usize, usize> {
    if json.as_bytes().get(i) != Some(&b'"') {
        return Err(i);
    }
    let (k, end) = string(json, i)?;
    visit(Token::Key(k), i);
    let colon = skip_ws(json.as_bytes(), end);
    match json.as_bytes().get(colon) {
        Some(b':') => Ok(colon + 1),
        _ => Err(colon),
    }
}

fn literal<'a>(
    b: &[u8],
    i: usize,
    word: &[u8],
    token: Token<'a>,
    visit: &mut impl FnMut(Token<'a>, usize),
) -> Result<usize, usize> {
    for (k, &expected) in word.iter().enumerate() {
        if b.get(i + k) != Some(&expected) {
            return Err((i + k).min(b.len()));
        }
    }
    visit(token, i);
    Ok(i + word.len())
}

/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` at `i`; returns its end.
fn number(b: &[u8], mut i: usize) -> Result<usize, usize> {
    let digits = |i: usize| digits(b, i);
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(i + 1),
        _ => return Err(i),
    }
    if b.get(i) == Some(&b'.') {
        let end = digits(i + 1);
        if end == i + 1 {
            return Err(end);
        }
        i = end;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let end = digits(i);
        if end == i {
            return Err(end);
        }
        i = end;
    }
    Ok(i)
}

/// The end of the run of ASCII digits at `i`: eight bytes at a time (without a branch per
/// digit, whose exit the CPU cannot predict), then one at a time near the end of `b`.
#[inline]
fn digits(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        // The high bit of each byte that is not `0`-`9`: below 0x30 borrows, above 0x39
        // carries into the high bit, and bytes from 0x80 have it already. A borrow or carry
        // crosses into the next byte only out of such a byte, so the lowest bit is exact.
        let other = (word.wrapping_sub(LO * 0x30) | word.wrapping_add(LO * 0x46) | word) & HI;
        if other != 0 {
            return i + (other.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

const LO: u64 = u64::from_le_bytes([0x01; 8]);
const HI: u64 = u64::from_le_bytes([0x80; 8]);

/// The high bit of each byte of `word` below `n` (n ≤ 0x80). Bits above the lowest one
/// may be false positives (borrows), so only the lowest is meaningful.
const fn below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(LO * n as u64) & !word & HI
}

/// Where in `word` (little-endian) the first byte is that ends or escapes a string or must
/// have been escaped (`"`, `\`, below 0x20), as a bit mask whose lowest bit is exact.
const fn specials(word: u64) -> u64 {
    below(word ^ (LO * b'"' as u64), 1) | below(word ^ (LO * b'\\' as u64), 1) | below(word, 0x20)
}

/// The string whose opening quote is at `start`; returns it and the offset after its
/// closing quote.
fn string(json: &str, start: usize) -> Result<(JsonStr<'_>, usize), usize> {
    let b = json.as_bytes();
    let mut i = start + 1;
    let mut escaped = false;
    loop {
        // Eight bytes at a time through the plain runs, then straight to the special byte.
        while let Some(chunk) = b.get(i..i + 8) {
            let mask = specials(u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])));
            if mask != 0 {
                i += (mask.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        match b.get(i) {
            None => return Err(b.len()),
            Some(b'"') => {
                let raw = &json[start + 1..i];
                return Ok((JsonStr { raw, escaped }, i + 1));
            }
            Some(b'\\') => {
                escaped = true;
                i = escape(b, i)?;
            }
            Some(0..=0x1f) => return Err(i),
            Some(_) => i += 1,
        }
    }
}

/// The escape sequence whose backslash is at `i`; returns its end.
fn escape(b: &[u8], i: usize) -> Result<usize, usize> {
    match b.get(i + 1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 2),
        Some(b'u') => hex4(&b[i + 2..]).map(|_| i + 6).ok_or(i),
        None => Err(b.len()),
        Some(_) => Err(i + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{format, string::String, vec};

    fn tokens(json: &str) -> Result<Vec<Token<'_>>, usize> {
        let mut out = Vec::new();
        scan(json, |t, _| out.push(t)).map(|()| out)
    }

    #[test]
    fn accepts_json_values() {
        for ok in [
            "0",
            "-0",
            "1.5e-3",
            "1E+400",
            "-12.0",
            " \t\r\n[ ] ",
            "{}",
            r#"{"a":[1,{"b":null}],"c":"\u00e9\ud83d\ude00\n"}"#,
            r#""\"\\\/\b\f\n\r\t""#,
            "[true,false,null]",
            "\"é😀\"",
            "\"\u{7f}\u{2028}\"",
            r#"["\ud800","\udc00x","\ud83d\u0041"]"#,
        ] {
            assert_eq!(tokens(ok).map(|_| ()), Ok(()), "{ok}");
            assert!(
                serde_json::from_str::<serde::de::IgnoredAny>(ok).is_ok(),
                "{ok}"
            );
        }
    }

    #[test]
    fn rejects_with_the_offending_offset() {
        for (bad, at) in [
            ("", 0),
            ("   ", 3),
            ("[", 1),
            ("[1,]", 3),
            ("[1 2]", 3),
            ("{\"a\" 1}", 5),
            ("{\"a\":1,}", 7),
            ("{1:2}", 1),
            ("01", 1),
            ("1.", 2),
            ("1e", 2),
            ("-", 1),
            ("+1", 0),
            (".5", 0),
            ("tru", 3),
            ("nul!", 3),
            ("\"abc", 4),
            ("\"a\u{1}\"", 2),
            ("\"\\x\"", 2),
            ("\"\\u12G4\"", 1),
            ("[1]]", 3),
            ("{}{}", 2),
            ("[\"é\u{1}\"]", 4),
        ] {
            assert_eq!(tokens(bad), Err(at), "{bad:?}");
            assert!(serde_json::from_str::<serde::de::IgnoredAny>(bad).is_err());
        }
    }

    #[test]
    fn reports_tokens_in_order() {
        let json = r#"{"k":[1,"s",true],"e":{}}"#;
        let k = |raw| JsonStr {
            raw,
            escaped: false,
        };
        assert_eq!(
            tokens(json).unwrap(),
            vec![
                Token::ObjectStart,
                Token::Key(k("k")),
                Token::ArrayStart,
                Token::Number("1"),
                Token::String(k("s")),
                Token::True,
                Token::ArrayEnd,
                Token::Key(k("e")),
                Token::ObjectStart,
                Token::ObjectEnd,
                Token::ObjectEnd,
            ]
        );
    }

    #[test]
    fn nests_without_limit() {
        let depth = 3 * INLINE_DEPTH + 7;
        let mut json = String::new();
        for level in 0..depth {
            json.push_str(if level % 3 == 0 { "{\"k\":" } else { "[" });
        }
        json.push('0');
        for level in (0..depth).rev() {
            json.push(if level % 3 == 0 { '}' } else { ']' });
        }
        assert!(tokens(&json).is_ok());
        // A mismatched bracket deep inside is found.
        let bad = json.replacen("]}", "}}", 1);
        assert!(tokens(&bad).is_err());
    }

    #[test]
    fn long_strings_find_specials_in_every_position() {
        for at in 0..20 {
            let mut s = String::from("\"");
            s.push_str(&"a".repeat(at));
            s.push('\u{1f}');
            s.push_str(&"b".repeat(20));
            s.push('"');
            assert_eq!(tokens(&s), Err(1 + at), "{at}");
            let quoted = format!("[\"{}\",\"{}\"]", "a".repeat(at), "b".repeat(17));
            assert_eq!(tokens(&quoted).map(|t| t.len()), Ok(4));
        }
    }

    #[test]
    fn digit_runs_end_at_the_first_other_byte_of_any_value() {
        for other in (0..=255u8).filter(|b| !b.is_ascii_digit()) {
            for at in 0..20 {
                let mut text = vec![b'7'; 24];
                text[at] = other;
                text[(at + 3) % 24] = b'0' + (at % 10) as u8;
                let expected = text.iter().position(|b| !b.is_ascii_digit());
                assert_eq!(Some(digits(&text, 0)), expected, "{other:#x} at {at}");
            }
        }
        assert_eq!(digits(b"0123456789", 0), 10);
        assert_eq!(digits(b"12", 1), 2);
    }

    #[test]
    fn decodes_escapes_for_comparison() {
        let cases = [
            (r#""connect""#, "connect", true),
            (r#""conn\u0065ct""#, "connect", true),
            (r#""conn\u0065c""#, "connect", false),
            (r#""a\nb""#, "a\nb", true),
            (r#""\ud83d\ude00!""#, "😀!", true),
            (r#""\/""#, "/", true),
            (r#""x""#, "", false),
            (r#""\ud83d""#, "\u{fffd}", false),
            (r#""\udc00a""#, "a", false),
            (r#""\ud83d\u0041""#, "A", false),
        ];
        for (json, text, equal) in cases {
            let tokens = tokens(json).unwrap();
            let [Token::String(s)] = tokens.as_slice() else {
                panic!("{json}")
            };
            assert_eq!(s.decodes_to(text), equal, "{json} vs {text}");
        }
    }
}

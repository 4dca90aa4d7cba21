//! The fast validator: whether JSON text is valid, 64 bytes at a time (the two-stage design
//! of simdjson, written for this crate's rules).
//!
//! Stage 1 ([`super::blocks`]) gives each block's bytes by class. From those, with a few
//! integer operations per block: the escaped bytes (the byte after each backslash that is not
//! itself escaped), the string bytes (a prefix XOR over the unescaped quotes, carried from
//! block to block), and the token starts: every operator outside strings, every opening
//! quote, and the first byte of every run of other bytes outside strings (a number or a
//! literal, or garbage). Stage 2 runs the JSON grammar over the token starts alone, checking
//! each number and literal with the scalar scanner's functions.
//!
//! It only answers yes or no: on no, [`super::validate`] runs the scalar scanner for the
//! error's exact offset. So a false no costs time, never a verdict; a false yes would accept
//! invalid JSON, and is what the argument below rules out. Every byte of an accepted text is
//! one of: whitespace outside strings; an operator the grammar consumed; an opening quote the
//! grammar consumed, followed by string bytes free of raw control characters and of invalid
//! escapes up to the closing quote (every backslash's escape is checked, inside strings or
//! not); or part of a run of other bytes outside strings, which starts with a token the
//! grammar consumed as one number or literal that ends exactly where the run ends. A
//! backslash outside a string is such a run byte, so it is rejected (it cannot start a
//! number or literal, nor continue one), and the quote it escapes cannot mislead the string
//! mask of an accepted text.

use super::{Nesting, blocks, escape, number};

/// Whether `json` is one JSON value with optional surrounding whitespace, by the same rules
/// as [`super::scan`].
pub(crate) fn is_valid(json: &str) -> bool {
    let b = json.as_bytes();
    let mut tokens = Tokens::new(b);
    value_grammar(b, &mut tokens) && tokens.next().is_none() && tokens.clean_end()
}

/// The token starts of the text, block by block (stage 1 and the masks above).
struct Tokens<'a> {
    b: &'a [u8],
    kernel: blocks::Kernel,
    /// The offset of the next block.
    next_block: usize,
    /// The offset of the current block and its token starts not yet returned.
    base: usize,
    pending: u64,
    /// All ones when the last block ended inside a string.
    in_string: u64,
    /// The next block's first byte is escaped by the last block's last byte.
    escape_next: bool,
    /// 1 when the last block ended inside a run of other bytes.
    run_carry: u64,
    /// A block held an invalid string byte or escape.
    failed: bool,
}

impl<'a> Tokens<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self {
            b,
            kernel: blocks::Kernel::detect(),
            next_block: 0,
            base: 0,
            pending: 0,
            in_string: 0,
            escape_next: false,
            run_carry: 0,
            failed: false,
        }
    }

    /// The offset of the next token start; `None` at the end or on an invalid block.
    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        while self.pending == 0 {
            if self.failed || self.next_block >= self.b.len() {
                return None;
            }
            self.refill();
        }
        let at = self.base + self.pending.trailing_zeros() as usize;
        self.pending &= self.pending - 1;
        Some(at)
    }

    /// Every string closed and every block valid (after the last token).
    fn clean_end(&self) -> bool {
        !self.failed && self.in_string == 0
    }

    /// Classifies the next block into `pending`. Kept out of line so that [`Tokens::next`]
    /// stays a few instructions where the grammar calls it.
    #[inline(never)]
    fn refill(&mut self) {
        let b = self.b;
        // Whole blocks inside one string, with no quote, backslash or control byte: no token,
        // nothing to check, one test each (the common case of a long string).
        if self.in_string != 0 && !self.escape_next {
            while let Some(Ok(whole)) = b
                .get(self.next_block..self.next_block + 64)
                .map(<&[u8; 64]>::try_from)
            {
                if !self.kernel.plain(whole) {
                    break;
                }
                self.next_block += 64;
                self.run_carry = 0;
            }
            if self.next_block >= b.len() {
                return;
            }
        }
        let base = self.next_block;
        self.base = base;
        self.next_block += 64;
        let mut padded = [b' '; 64];
        let block: &[u8; 64] = match b.get(base..base + 64).map(<&[u8; 64]>::try_from) {
            Some(Ok(whole)) => whole,
            _ => {
                // The last block, padded with whitespace (which adds no token).
                padded[..b.len() - base].copy_from_slice(&b[base..]);
                &padded
            }
        };
        let specials = self.kernel.specials(block);
        let escaped = if specials.backslash != 0 || self.escape_next {
            match escapes(b, base, specials.backslash, &mut self.escape_next) {
                Some(escaped) => escaped,
                None => {
                    self.failed = true;
                    return;
                }
            }
        } else {
            0
        };
        let quotes = specials.quote & !escaped;
        let strings = prefix_xor(quotes) ^ self.in_string;
        self.in_string = 0u64.wrapping_sub(strings >> 63);
        if specials.control & strings != 0 {
            self.failed = true;
            return;
        }
        let structure = self.kernel.structure(block);
        let run = !(structure.space | structure.operator | specials.quote) & !strings;
        let run_starts = run & !(run << 1 | self.run_carry);
        self.run_carry = run >> 63;
        self.pending = (structure.operator & !strings) | (quotes & strings) | run_starts;
    }
}

/// The bytes of the block at `base` escaped by a backslash, checking each escape; `None` when
/// one is invalid. `escape_next` says (and is set to) whether the block's first byte (the
/// next block's) is escaped by the last byte of the one before.
fn escapes(b: &[u8], base: usize, mut backslashes: u64, escape_next: &mut bool) -> Option<u64> {
    let mut escaped = u64::from(*escape_next);
    *escape_next = false;
    if escaped != 0 {
        escape(b, base - 1).ok()?;
    }
    while backslashes != 0 {
        let n = backslashes.trailing_zeros();
        backslashes &= backslashes - 1;
        if escaped >> n & 1 == 1 {
            continue; // the second backslash of `\\`
        }
        if n == 63 {
            *escape_next = true;
        } else {
            escaped |= 1 << (n + 1);
            escape(b, base + n as usize).ok()?;
        }
    }
    Some(escaped)
}

/// Bit `n` is the XOR of bits 0 to `n`: set from an opening quote up to (not including) its
/// closing quote.
const fn prefix_xor(mut bits: u64) -> u64 {
    bits ^= bits << 1;
    bits ^= bits << 2;
    bits ^= bits << 4;
    bits ^= bits << 8;
    bits ^= bits << 16;
    bits ^= bits << 32;
    bits
}

/// One JSON value over the token starts (stage 2), written as [`super::scan`] is: where the
/// code is says what the grammar expects, so each branch is taken the same way most of the
/// time.
fn value_grammar(b: &[u8], tokens: &mut Tokens<'_>) -> bool {
    let mut nesting = Nesting::new();
    // A token read ahead: the first element of an array.
    let mut ahead = None;
    loop {
        // A value starts here.
        let Some(at) = ahead.take().or_else(|| tokens.next()) else {
            return false;
        };
        match b[at] {
            b'{' => {
                let Some(at) = tokens.next() else {
                    return false;
                };
                match b[at] {
                    b'}' => {}
                    b'"' if colon(b, tokens) => {
                        nesting.push(true);
                        continue;
                    }
                    _ => return false,
                }
            }
            b'[' => {
                let Some(at) = tokens.next() else {
                    return false;
                };
                if b[at] != b']' {
                    nesting.push(false);
                    ahead = Some(at);
                    continue;
                }
            }
            b'"' => {}
            b'}' | b']' | b',' | b':' => return false,
            _ if scalar(b, at) => {}
            _ => return false,
        }
        // After a value: close containers until one continues with a comma.
        loop {
            let Some(object) = nesting.top() else {
                return true;
            };
            let Some(at) = tokens.next() else {
                return false;
            };
            match (b[at], object) {
                (b',', false) => break,
                (b',', true) => {
                    let key = tokens.next();
                    if key.is_none_or(|at| b[at] != b'"') || !colon(b, tokens) {
                        return false;
                    }
                    break;
                }
                (b']', false) | (b'}', true) => nesting.pop(),
                _ => return false,
            }
        }
    }
}

/// The `:` after a key.
fn colon(b: &[u8], tokens: &mut Tokens<'_>) -> bool {
    tokens.next().is_some_and(|at| b[at] == b':')
}

/// A number or literal starting at `at` that ends where its run of other bytes ends.
fn scalar(b: &[u8], at: usize) -> bool {
    let end = match b[at] {
        b't' => literal(b, at, b"true"),
        b'f' => literal(b, at, b"false"),
        b'n' => literal(b, at, b"null"),
        _ => number(b, at).ok(),
    };
    end.is_some_and(|end| b.get(end).is_none_or(|&byte| ENDS_RUN[usize::from(byte)]))
}

/// The bytes that end a run of other bytes: whitespace, operators and `"` (a table: one load
/// where a `match` over eleven bytes compiles to a chain of compares).
static ENDS_RUN: [bool; 256] = {
    let mut table = [false; 256];
    let ends = b" \t\n\r{}[],:\"";
    let mut i = 0;
    while i < ends.len() {
        table[ends[i] as usize] = true;
        i += 1;
    }
    table
};

fn literal(b: &[u8], at: usize, word: &[u8]) -> Option<usize> {
    b.get(at..)?.starts_with(word).then_some(at + word.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socketio::scanner::scan;
    use alloc::{
        format,
        string::{String, ToString},
        vec,
        vec::Vec,
    };
    use proptest::prelude::*;

    fn agrees(json: &str) {
        assert_eq!(
            is_valid(json),
            scan(json, |_, _| {}).is_ok(),
            "fast and scalar disagree on {json:?}"
        );
    }

    /// A JSON value as text, with random whitespace, escapes and long strings.
    fn value() -> impl Strategy<Value = String> {
        let ws = prop::sample::select(vec!["", "", " ", "\n", "\t ", "\r\n  "]);
        let string = prop::collection::vec(
            prop::sample::select(vec![
                "a", "é", "😀", "\\\"", "\\\\", "\\/", "\\n", "\\u00e9", "\\ud800", "x", "y",
                "\u{7f}", "\\\\\\\"",
            ]),
            0..40,
        )
        .prop_map(|parts| format!("\"{}\"", parts.concat()));
        let scalar = prop_oneof![
            Just(String::from("true")),
            Just(String::from("false")),
            Just(String::from("null")),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|x| format!("{x:e}")),
            Just(String::from("-0.5E+400")),
            string.clone(),
        ];
        scalar.prop_recursive(6, 64, 8, move |inner| {
            let ws = ws.clone();
            prop_oneof![
                (prop::collection::vec(inner.clone(), 0..8), ws.clone()).prop_map(
                    |(items, ws)| format!("[{ws}{}{ws}]", items.join(&format!("{ws},{ws}")))
                ),
                (
                    prop::collection::vec((string.clone(), inner), 0..6),
                    ws.clone()
                )
                    .prop_map(|(members, ws)| {
                        let members: Vec<String> = members
                            .into_iter()
                            .map(|(k, v)| format!("{k}{ws}:{ws}{v}"))
                            .collect();
                        format!("{{{ws}{}{ws}}}", members.join(","))
                    }),
            ]
        })
    }

    proptest! {
        // Under Miri (CI runs these tests there for the `unsafe` of `blocks`), a few cases
        // and no failure file: Miri is slow and isolates the file system.
        #![proptest_config(ProptestConfig {
            cases: if cfg!(miri) { 8 } else { 2048 },
            failure_persistence: if cfg!(miri) { None } else { ProptestConfig::default().failure_persistence },
            ..ProptestConfig::default()
        })]

        #[test]
        fn accepts_what_the_scalar_scan_accepts(json in value(), pad in 0..70usize) {
            let padded = format!("{}{json}", " ".repeat(pad));
            prop_assert!(is_valid(&padded), "{padded:?}");
            agrees(&padded);
        }

        /// One byte replaced, inserted or removed anywhere: the two still agree.
        #[test]
        fn agrees_on_edited_json(
            json in value(),
            at in any::<prop::sample::Index>(),
            byte in prop::sample::select(b"{}[],:\"\\ \ntfn0-.eE1\x01a/u".to_vec()),
            edit in 0..3u8,
        ) {
            let mut bytes = json.into_bytes();
            let at = at.index(bytes.len() + 1);
            match edit {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ if at < bytes.len() => { bytes.remove(at); }
                _ => bytes.push(byte),
            }
            if let Ok(text) = core::str::from_utf8(&bytes) {
                agrees(text);
            }
        }

        #[test]
        fn agrees_on_arbitrary_text(text in "[\\[\\]{},:\"\\\\ a-z0-9.eE+\\-\t\n\u{1}é]{0,200}") {
            agrees(&text);
        }
    }

    #[test]
    fn agrees_across_block_boundaries() {
        // A backslash, quote, control byte or number end at each offset around 64 and 128.
        let offsets = if cfg!(miri) { 60..68 } else { 55..140 };
        for at in offsets {
            for (before, after) in [
                ("\"", "\\\"\""),
                ("\"", "\\\\\""),
                ("\"", "\\u00e9\""),
                ("\"", "\\u00\""),
                ("\"", "\u{1}\""),
                ("\"", "\\"),
                ("[1", "2]"),
                ("[tr", "ue]"),
                ("[1.", "]"),
                ("{\"k\"", ":1}"),
                ("[\"", "\",\"\\\\\"]"),
                ("[1,\\", "\"]"),
            ] {
                let json = format!("{before}{}{after}", "x".repeat(at));
                agrees(&json);
                let spaced = format!("{}{before}{after}", " ".repeat(at));
                agrees(&spaced);
            }
        }
    }
}

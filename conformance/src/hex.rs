//! Hex, the spelling of bytes everywhere the runner shows or reads them: `{"$bin": "<hex>"}`
//! leaves of actual values and patterns, `hex:` frames of `decode`/`encode`, transcript
//! events, `diff` hunks, fixtures' `hex:` bodies. One encoder and one decoder, so that the
//! same bytes always read the same.
//!
//! - [`encode`] writes lowercase digits without separators (`00ff10`).
//! - [`decode`] reads either case and ignores ASCII whitespace anywhere, so that long
//!   buffers in fixtures can be grouped (`01 02 03 04`); anything else that is not a digit,
//!   or an odd number of digits, is an error.

use std::fmt;

/// Lowercase hex of `bytes`, without separators.
#[must_use]
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Why a text is not hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The first character that is neither a hex digit nor ASCII whitespace.
    Digit(char),
    /// The text has this odd number of digits.
    Odd(usize),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Digit(c) => write!(f, "invalid hex digit `{c}`"),
            Self::Odd(n) => write!(f, "odd number of hex digits ({n})"),
        }
    }
}

impl std::error::Error for Error {}

/// The bytes of hex `text`: digits of either case, ASCII whitespace ignored (see the module
/// documentation).
///
/// # Errors
/// The first character that is not a digit or whitespace, else an odd digit count.
pub fn decode(text: &str) -> Result<Vec<u8>, Error> {
    let digits: Vec<u8> = text
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .map(|c| c.to_digit(16).map(|d| d as u8).ok_or(Error::Digit(c)))
        .collect::<Result<_, _>>()?;
    if !digits.len().is_multiple_of(2) {
        return Err(Error::Odd(digits.len()));
    }
    Ok(digits
        .chunks_exact(2)
        .map(|pair| (pair[0] << 4) | pair[1])
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_the_whitespace_rule() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&bytes)), Ok(bytes));
        assert_eq!(encode(&[0x00, 0xff, 0x10]), "00ff10");
        assert_eq!(decode("0A ff\n10\t"), Ok(vec![0x0a, 0xff, 0x10]));
        assert_eq!(decode(""), Ok(Vec::new()));
        assert_eq!(decode("0g"), Err(Error::Digit('g')));
        assert_eq!(decode("0é"), Err(Error::Digit('é')));
        assert_eq!(decode("0 1 2"), Err(Error::Odd(3)));
        assert_eq!(Error::Digit('g').to_string(), "invalid hex digit `g`");
        assert_eq!(Error::Odd(3).to_string(), "odd number of hex digits (3)");
    }
}

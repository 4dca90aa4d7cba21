//! Base64 for binary messages carried in text (`b<base64>`), strict or Node-lenient.

use alloc::vec::Vec;
use base64::{
    Engine as _, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use bytes::BufMut;

/// Standard alphabet; padding written, optional when reading (the JS client omits nothing,
/// but python-engineio and hand-written clients sometimes do).
const STANDARD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Lenient tail decoding: no padding, any trailing bits.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes `text`; `lenient` mimics Node's `Buffer.from(text, "base64")`.
pub(crate) fn decode(text: &str, lenient: bool) -> Option<Vec<u8>> {
    match STANDARD.decode(text) {
        Ok(bytes) => Some(bytes),
        Err(_) if lenient => {
            // NOTE(compat): Node skips characters outside the alphabet, accepts the URL-safe
            // alphabet and stops at the first '='.
            let cleaned: Vec<u8> = text
                .bytes()
                .take_while(|&b| b != b'=')
                .filter_map(|b| match b {
                    b'-' => Some(b'+'),
                    b'_' => Some(b'/'),
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' => Some(b),
                    _ => None,
                })
                .collect();
            // A single dangling character carries no full byte; Node drops it.
            let usable = cleaned.len() - usize::from(cleaned.len() % 4 == 1);
            LENIENT.decode(&cleaned[..usable]).ok()
        }
        Err(_) => None,
    }
}

/// Encoded length of `n` bytes, with padding.
pub(crate) const fn encoded_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Appends the padded base64 of `data` to `dst` through a small stack buffer (no heap).
pub(crate) fn put<B: BufMut>(dst: &mut B, data: &[u8]) {
    let mut out = [0u8; 1024];
    for chunk in data.chunks(768) {
        let n = STANDARD.encode_slice(chunk, &mut out).unwrap_or(0);
        dst.put_slice(&out[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_padded_and_unpadded() {
        assert_eq!(decode("AQIDBA==", false).unwrap(), [1, 2, 3, 4]);
        assert_eq!(decode("AQIDBA", false).unwrap(), [1, 2, 3, 4]);
        assert_eq!(decode("", false).unwrap(), [0u8; 0]);
    }

    #[test]
    fn rejects_garbage_unless_lenient() {
        assert!(decode("!!!", false).is_none());
        assert_eq!(decode("!!!", true).unwrap(), [0u8; 0]);
        assert_eq!(decode("AQ ID-_==xx", true).unwrap(), [1, 2, 3, 0xfb]);
    }

    #[test]
    fn encodes_in_chunks() {
        let data: Vec<u8> = (0..=255).cycle().take(5000).collect();
        let mut out = Vec::new();
        put(&mut out, &data);
        assert_eq!(out.len(), encoded_len(data.len()));
        assert_eq!(
            decode(core::str::from_utf8(&out).unwrap(), false).unwrap(),
            data
        );
    }
}

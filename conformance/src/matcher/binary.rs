//! Byte strings in fixtures (`{$bin: {hex|base64|utf8: …}}`) and in actual values
//! (`{"$bin": "<lowercase hex>"}`).

use crate::hex;
use base64::Engine as _;
use serde_json::Value;

/// Key marking a binary leaf, in patterns and in actual values.
pub const BIN_KEY: &str = "$bin";

/// The actual-value form of a byte string: `{"$bin": "<lowercase hex>"}`.
///
/// The engine builds binary leaves of actual values with this, so that patterns can match
/// bytes whatever the transport encoding was (raw WebSocket frame, `b`+base64 over polling).
#[must_use]
pub fn binary_value(bytes: &[u8]) -> Value {
    let mut map = serde_json::Map::new();
    map.insert(BIN_KEY.to_owned(), Value::String(hex::encode(bytes)));
    Value::Object(map)
}

/// The bytes of a binary leaf (`{"$bin": "<hex>"}`, hex in any case), `None` for other values.
#[must_use]
pub fn as_binary(value: &Value) -> Option<Vec<u8>> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    hex::decode(map.get(BIN_KEY)?.as_str()?).ok()
}

/// Decodes the fixture spelling of a byte string: a map with exactly one of `hex`, `base64`
/// (standard alphabet, padding optional) or `utf8`.
///
/// # Errors
/// A message for a wrong shape or undecodable text.
pub fn decode_bin_spec(spec: &Value) -> Result<Vec<u8>, String> {
    let shape = || "`$bin` takes a map with exactly one of `hex`, `base64`, `utf8`".to_owned();
    let map = spec.as_object().ok_or_else(shape)?;
    let mut entries = map.iter();
    let (Some((encoding, text)), None) = (entries.next(), entries.next()) else {
        return Err(shape());
    };
    let text = text
        .as_str()
        .ok_or_else(|| format!("`$bin.{encoding}` must be a string"))?;
    match encoding.as_str() {
        "hex" => hex::decode(text).map_err(|e| e.to_string()),
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .map_err(|err| format!("invalid base64: {err}")),
        "utf8" => Ok(text.as_bytes().to_vec()),
        other => Err(format!(
            "unknown `$bin` encoding `{other}` (expected hex, base64 or utf8)"
        )),
    }
}

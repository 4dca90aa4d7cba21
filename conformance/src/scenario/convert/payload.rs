//! Payloads to send: Engine.IO / Socket.IO packets, with binary leaves made canonical.

use serde_json::Value;

use super::{At, Converter};
use crate::matcher::{BIN_KEY, Template, binary_value, decode_bin_spec, value_variables};
use crate::scenario::packet::{EioData, EioPacket, EioType, SioPacket};
use crate::scenario::raw::{RawEioPacket, RawSioPacket};

impl Converter<'_, '_> {
    pub(super) fn eio_packet(&mut self, at: At, raw: RawEioPacket) -> Option<EioPacket> {
        let data = match raw.data {
            None => None,
            Some(Value::String(text)) => match Template::parse(&text) {
                Ok(template) => Some(EioData::Text(template)),
                Err(err) => {
                    self.error(at, format!("eio data: {err}"));
                    return None;
                }
            },
            Some(Value::Object(map)) if map.len() == 1 && map.contains_key(BIN_KEY) => {
                let spec = map.get(BIN_KEY).unwrap_or(&Value::Null);
                match decode_bin_spec(spec) {
                    Ok(bytes) => Some(EioData::Binary(bytes)),
                    Err(message) => {
                        self.error(at, format!("eio data: {message}"));
                        return None;
                    }
                }
            }
            Some(other) => {
                self.error(
                    at,
                    format!(
                        "eio data must be a string (quote numbers: '1') or {{$bin: …}}, got {other}"
                    ),
                );
                return None;
            }
        };
        if matches!(data, Some(EioData::Binary(_))) && raw.kind != EioType::Message {
            self.error(
                at,
                format!(
                    "only `message` packets carry binary data, not `{}`",
                    raw.kind.name()
                ),
            );
        }
        Some(EioPacket {
            kind: raw.kind,
            data,
        })
    }

    pub(super) fn sio_packet(&mut self, at: At, raw: RawSioPacket) -> Option<SioPacket> {
        let id = match raw.id {
            None => None,
            Some(Value::Number(number)) if number.is_u64() => Some(Value::Number(number)),
            Some(Value::String(text))
                if Template::parse(&text).is_ok_and(|t| t.whole_var().is_some()) =>
            {
                Some(Value::String(text))
            }
            Some(other) => {
                self.error(
                    at,
                    format!("sio `id` must be a non-negative integer or \"${{var}}\", got {other}"),
                );
                return None;
            }
        };
        let data = match raw.data {
            None => None,
            Some(data) => match canonical_binary(&data, "/data") {
                Ok(data) => {
                    if let Err(err) = value_variables(&data) {
                        self.error(at, format!("sio data: {err}"));
                        return None;
                    }
                    Some(data)
                }
                Err(message) => {
                    self.error(at, format!("sio data: {message}"));
                    return None;
                }
            },
        };
        Some(SioPacket {
            kind: raw.kind,
            nsp: raw.nsp.unwrap_or_else(|| "/".to_owned()),
            id,
            data,
        })
    }
}

/// Replaces every `{$bin: {hex|base64|utf8: …}}` in a payload with the canonical binary leaf
/// `{"$bin": "<hex>"}`, so payloads to send look like actual values; any other `$` key is a
/// typo.
fn canonical_binary(value: &Value, path: &str) -> Result<Value, String> {
    Ok(match value {
        Value::Object(map) if map.contains_key(BIN_KEY) => {
            if map.len() != 1 {
                return Err(format!("at {path}: `$bin` must be alone in its map"));
            }
            let spec = map.get(BIN_KEY).unwrap_or(&Value::Null);
            binary_value(&decode_bin_spec(spec).map_err(|message| format!("at {path}: {message}"))?)
        }
        Value::Object(map) => {
            if let Some(key) = map.keys().find(|key| key.starts_with('$')) {
                return Err(format!(
                    "at {path}: unknown key `{key}` (only `$bin` is special here)"
                ));
            }
            Value::Object(
                map.iter()
                    .map(|(key, item)| {
                        Ok((
                            key.clone(),
                            canonical_binary(item, &format!("{path}/{key}"))?,
                        ))
                    })
                    .collect::<Result<_, String>>()?,
            )
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| canonical_binary(item, &format!("{path}/{index}")))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

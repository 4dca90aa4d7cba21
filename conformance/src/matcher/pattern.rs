//! The typed pattern language, parsed from fixture YAML at load time.

use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Number, Value};

use super::binary::{BIN_KEY, decode_bin_spec};
use super::template::{Template, is_var_name};
use crate::hex;

/// What a fixture expects of one JSON value.
///
/// Maps whose keys start with `$` are matchers; several matcher keys in one map all apply
/// ([`Pattern::All`]). Any other map is an [`ObjectPattern`].
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// Literal `null`.
    Null,
    /// Literal boolean.
    Bool(bool),
    /// Literal number; `1` and `1.0` are equal.
    Number(Number),
    /// Literal string. `"${name}"` alone compares with the captured value (any JSON type);
    /// embedded references are interpolated into the expected text.
    String(Template),
    /// Literal array: same length, elements matched pairwise.
    Array(Vec<Self>),
    /// Object compared key by key.
    Object(ObjectPattern),
    /// `{$any: true}`: any value (inside an object the key must still be present).
    Any,
    /// `{$type: …}`.
    Type(JsonType),
    /// `{$capture: name}`: matches anything and stores it under `name` if the whole match passes.
    Capture(String),
    /// `{$json: pattern}`: the actual is a string holding JSON; parse it and match.
    Json(Box<Self>),
    /// `{$ne: pattern}`: passes when the inner pattern does not.
    Ne(Box<Self>),
    /// `{$bin: {hex|base64|utf8: …}}`: a binary leaf with exactly these bytes.
    Bin(Vec<u8>),
    /// `{$starts_with: text}`.
    StartsWith(Template),
    /// `{$ends_with: text}`.
    EndsWith(Template),
    /// `{$contains: pattern}`: a substring of a string (pattern must be a string), or some
    /// element of an array matching the pattern.
    Contains(Box<Self>),
    /// `{$one_of: [patterns]}`: the first passing alternative wins; only its captures are kept.
    OneOf(Vec<Self>),
    /// `{$gt: n}`: a number strictly greater than `n`.
    Gt(Number),
    /// `{$lt: n}`: a number strictly less than `n`.
    Lt(Number),
    /// `{$min_len: n}`: length of a string (characters), array, object (keys) or binary (bytes).
    MinLen(u64),
    /// `{$max_len: n}`: see [`Pattern::MinLen`].
    MaxLen(u64),
    /// Several matcher keys in one map; all must pass.
    All(Vec<Self>),
}

/// An object pattern: listed keys must be present and match; `extra_keys` says what unlisted
/// keys of the actual object do.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectPattern {
    /// Expected keys in fixture order.
    pub fields: Vec<(String, Pattern)>,
    /// Policy for keys the pattern does not list.
    pub extra_keys: ExtraKeys,
}

/// `$extra_keys` policy of an object pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExtraKeys {
    /// Unlisted keys fail the match.
    Forbid,
    /// Unlisted keys are ignored.
    Allow,
    /// Unlisted keys pass with a NON-STRICT note (the default: servers may add fields, but
    /// reports should show it).
    #[default]
    NonStrict,
}

impl ExtraKeys {
    fn name(self) -> &'static str {
        match self {
            Self::Forbid => "forbid",
            Self::Allow => "allow",
            Self::NonStrict => "non-strict",
        }
    }
}

/// JSON types for `$type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    /// A string.
    String,
    /// A number without fractional part (`1.0` counts, as numbers are normalised).
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// An array.
    Array,
    /// An object that is not a binary leaf.
    Object,
    /// `null`.
    Null,
    /// A binary leaf (`{"$bin": "<hex>"}`).
    Binary,
}

impl JsonType {
    const ALL: [(&'static str, Self); 8] = [
        ("string", Self::String),
        ("integer", Self::Integer),
        ("number", Self::Number),
        ("boolean", Self::Boolean),
        ("array", Self::Array),
        ("object", Self::Object),
        ("null", Self::Null),
        ("binary", Self::Binary),
    ];

    /// The fixture spelling.
    #[must_use]
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, kind)| *kind == self)
            .map_or("?", |(name, _)| name)
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, kind)| *kind)
    }
}

/// A pattern that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// JSON-pointer-like path inside the pattern (`""` for its root).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for PatternError {}

/// Appends one JSON-pointer segment (`~` and `/` escaped as in RFC 6901).
pub(crate) fn push_path(path: &str, segment: &str) -> String {
    format!("{path}/{}", segment.replace('~', "~0").replace('/', "~1"))
}

const MATCHER_KEYS: &str = "$type, $capture, $json, $ne, $bin, $starts_with, $ends_with, \
                            $contains, $one_of, $gt, $lt, $min_len, $max_len, $any, $extra_keys";

impl Pattern {
    /// Parses a pattern from a YAML/JSON value.
    ///
    /// # Errors
    /// [`PatternError`] for unknown `$` keys, wrong matcher arguments, bad `${…}` syntax, or a
    /// map mixing matcher keys with object keys.
    pub fn from_value(value: &Value) -> Result<Self, PatternError> {
        parse(value, "")
    }

    /// A pattern equal to exactly this value (strings are taken literally, not as templates;
    /// binary leaves become [`Pattern::Bin`]).
    #[must_use]
    pub fn exact(value: &Value) -> Self {
        if let Some(bytes) = super::binary::as_binary(value) {
            return Self::Bin(bytes);
        }
        match value {
            Value::Null => Self::Null,
            Value::Bool(flag) => Self::Bool(*flag),
            Value::Number(number) => Self::Number(number.clone()),
            Value::String(text) => Self::String(Template::literal_text(text)),
            Value::Array(items) => Self::Array(items.iter().map(Self::exact).collect()),
            Value::Object(map) => Self::Object(ObjectPattern {
                fields: map
                    .iter()
                    .map(|(key, item)| (key.clone(), Self::exact(item)))
                    .collect(),
                extra_keys: ExtraKeys::Forbid,
            }),
        }
    }

    /// Calls `visit` on this pattern and every nested one.
    pub fn walk(&self, visit: &mut dyn FnMut(&Self)) {
        visit(self);
        match self {
            Self::Array(items) | Self::OneOf(items) | Self::All(items) => {
                for item in items {
                    item.walk(visit);
                }
            }
            Self::Object(object) => {
                for (_, item) in &object.fields {
                    item.walk(visit);
                }
            }
            Self::Json(inner) | Self::Ne(inner) | Self::Contains(inner) => inner.walk(visit),
            _ => {}
        }
    }

    /// Variables this pattern reads (`${name}` in strings), in order of appearance.
    #[must_use]
    pub fn variables(&self) -> Vec<String> {
        let mut names = Vec::new();
        self.walk(&mut |pattern| match pattern {
            Self::String(template) | Self::StartsWith(template) | Self::EndsWith(template) => {
                names.extend(template.variables().map(str::to_owned));
            }
            _ => {}
        });
        names
    }

    /// Variables this pattern may capture (`$capture`), in order of appearance.
    #[must_use]
    pub fn captures(&self) -> Vec<String> {
        let mut names = Vec::new();
        self.walk(&mut |pattern| {
            if let Self::Capture(name) = pattern {
                names.push(name.clone());
            }
        });
        names
    }

    /// Why this pattern can never match text (a literal number, boolean, array, ...), if so.
    ///
    /// Used for places whose actual value is always a string (raw frames, body text, Engine.IO
    /// data), where `text: 2` would otherwise silently compare the number 2 with the text "2".
    /// `allow_binary` also accepts `$bin` (Engine.IO message data).
    #[must_use]
    pub fn text_problem(&self, allow_binary: bool) -> Option<String> {
        let literal = |kind: &str| {
            Some(format!(
                "a {kind} never matches text here; quote it to compare text (e.g. '2')"
            ))
        };
        match self {
            Self::Null => literal("null"),
            Self::Bool(_) => literal("boolean"),
            Self::Number(_) => literal("number"),
            Self::Array(_) => literal("list"),
            Self::Object(_) => literal("map"),
            Self::Bin(_) if !allow_binary => {
                Some("binary data is not allowed here (text only)".to_owned())
            }
            Self::OneOf(items) | Self::All(items) => items
                .iter()
                .find_map(|item| item.text_problem(allow_binary)),
            _ => None,
        }
    }

    /// The pattern in fixture notation, as JSON (for reports).
    #[must_use]
    pub fn to_value(&self) -> Value {
        let matcher = |key: &str, value: Value| {
            let mut map = Map::new();
            map.insert(key.to_owned(), value);
            Value::Object(map)
        };
        match self {
            Self::Null => Value::Null,
            Self::Bool(flag) => Value::Bool(*flag),
            Self::Number(number) => Value::Number(number.clone()),
            Self::String(template) => Value::String(template.as_str().to_owned()),
            Self::Array(items) => Value::Array(items.iter().map(Self::to_value).collect()),
            Self::Object(object) => {
                let mut map: Map<String, Value> = object
                    .fields
                    .iter()
                    .map(|(key, item)| (key.clone(), item.to_value()))
                    .collect();
                if object.extra_keys != ExtraKeys::NonStrict {
                    map.insert(
                        "$extra_keys".to_owned(),
                        Value::String(object.extra_keys.name().to_owned()),
                    );
                }
                Value::Object(map)
            }
            Self::Any => matcher("$any", Value::Bool(true)),
            Self::Type(kind) => matcher("$type", Value::String(kind.name().to_owned())),
            Self::Capture(name) => matcher("$capture", Value::String(name.clone())),
            Self::Json(inner) => matcher("$json", inner.to_value()),
            Self::Ne(inner) => matcher("$ne", inner.to_value()),
            Self::Bin(bytes) => matcher(BIN_KEY, matcher("hex", Value::String(hex::encode(bytes)))),
            Self::StartsWith(text) => matcher("$starts_with", Value::String(text.to_string())),
            Self::EndsWith(text) => matcher("$ends_with", Value::String(text.to_string())),
            Self::Contains(inner) => matcher("$contains", inner.to_value()),
            Self::OneOf(items) => matcher(
                "$one_of",
                Value::Array(items.iter().map(Self::to_value).collect()),
            ),
            Self::Gt(number) => matcher("$gt", Value::Number(number.clone())),
            Self::Lt(number) => matcher("$lt", Value::Number(number.clone())),
            Self::MinLen(len) => matcher("$min_len", Value::from(*len)),
            Self::MaxLen(len) => matcher("$max_len", Value::from(*len)),
            Self::All(items) => Value::Object(
                items
                    .iter()
                    .filter_map(|item| match item.to_value() {
                        Value::Object(map) => Some(map),
                        _ => None,
                    })
                    .flatten()
                    .collect(),
            ),
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_value())
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::from_value(&value).map_err(serde::de::Error::custom)
    }
}

fn parse(value: &Value, path: &str) -> Result<Pattern, PatternError> {
    let err = |message: String| PatternError {
        path: path.to_owned(),
        message,
    };
    Ok(match value {
        Value::Null => Pattern::Null,
        Value::Bool(flag) => Pattern::Bool(*flag),
        Value::Number(number) => Pattern::Number(number.clone()),
        Value::String(text) => {
            Pattern::String(Template::parse(text).map_err(|e| err(e.to_string()))?)
        }
        Value::Array(items) => Pattern::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| parse(item, &push_path(path, &index.to_string())))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => parse_map(map, path)?,
    })
}

fn parse_map(map: &Map<String, Value>, path: &str) -> Result<Pattern, PatternError> {
    let err = |message: String| PatternError {
        path: path.to_owned(),
        message,
    };
    let dollar_keys: Vec<&str> = map
        .keys()
        .map(String::as_str)
        .filter(|key| key.starts_with('$'))
        .collect();
    let plain_key = map.keys().find(|key| !key.starts_with('$'));

    if dollar_keys.is_empty() || map.contains_key("$extra_keys") {
        if let Some(key) = dollar_keys.iter().find(|key| **key != "$extra_keys") {
            return Err(err(format!(
                "`{key}` cannot be combined with `$extra_keys`: `$extra_keys` marks an object pattern"
            )));
        }
        let extra_keys = match map.get("$extra_keys") {
            None => ExtraKeys::default(),
            Some(Value::String(policy)) => match policy.as_str() {
                "forbid" => ExtraKeys::Forbid,
                "allow" => ExtraKeys::Allow,
                "non-strict" => ExtraKeys::NonStrict,
                other => {
                    return Err(err(format!(
                        "unknown `$extra_keys` policy `{other}` (expected forbid, allow or non-strict)"
                    )));
                }
            },
            Some(_) => return Err(err("`$extra_keys` takes forbid, allow or non-strict".into())),
        };
        let fields = map
            .iter()
            .filter(|(key, _)| *key != "$extra_keys")
            .map(|(key, item)| Ok((key.clone(), parse(item, &push_path(path, key))?)))
            .collect::<Result<_, PatternError>>()?;
        return Ok(Pattern::Object(ObjectPattern { fields, extra_keys }));
    }

    if let Some(key) = plain_key {
        return Err(err(format!(
            "matcher keys ({}) cannot be mixed with object key `{key}`; \
             put the object under the matcher (e.g. `$json: {{…}}`) or match the key separately",
            dollar_keys.join(", ")
        )));
    }

    let mut parts = Vec::new();
    let mut capture = None;
    for (key, arg) in map {
        let here = push_path(path, key);
        let arg_err = |message: String| PatternError {
            path: here.clone(),
            message,
        };
        let part = match key.as_str() {
            "$any" => match arg {
                Value::Bool(true) => Pattern::Any,
                _ => return Err(arg_err("`$any` only takes `true`".into())),
            },
            "$type" => {
                let name = arg.as_str().unwrap_or_default();
                Pattern::Type(JsonType::from_name(name).ok_or_else(|| {
                    arg_err(format!(
                        "unknown `$type` {arg} (expected string, integer, number, boolean, \
                         array, object, null or binary)"
                    ))
                })?)
            }
            "$capture" => match arg.as_str() {
                Some(name) if is_var_name(name) => {
                    capture = Some(Pattern::Capture(name.to_owned()));
                    continue;
                }
                _ => {
                    return Err(arg_err(format!(
                        "`$capture` takes a variable name ([A-Za-z_][A-Za-z0-9_]*), got {arg}"
                    )));
                }
            },
            "$json" => Pattern::Json(Box::new(parse(arg, &here)?)),
            "$ne" => Pattern::Ne(Box::new(parse(arg, &here)?)),
            "$contains" => Pattern::Contains(Box::new(parse(arg, &here)?)),
            "$bin" => Pattern::Bin(decode_bin_spec(arg).map_err(arg_err)?),
            "$starts_with" | "$ends_with" => {
                let text = arg
                    .as_str()
                    .ok_or_else(|| arg_err(format!("`{key}` takes a string")))?;
                let template = Template::parse(text).map_err(|e| arg_err(e.to_string()))?;
                if key == "$starts_with" {
                    Pattern::StartsWith(template)
                } else {
                    Pattern::EndsWith(template)
                }
            }
            "$one_of" => match arg {
                Value::Array(items) if !items.is_empty() => Pattern::OneOf(
                    items
                        .iter()
                        .enumerate()
                        .map(|(index, item)| parse(item, &push_path(&here, &index.to_string())))
                        .collect::<Result<_, _>>()?,
                ),
                _ => {
                    return Err(arg_err(
                        "`$one_of` takes a non-empty list of patterns".into(),
                    ));
                }
            },
            "$gt" | "$lt" => {
                let Value::Number(number) = arg else {
                    return Err(arg_err(format!("`{key}` takes a number")));
                };
                if key == "$gt" {
                    Pattern::Gt(number.clone())
                } else {
                    Pattern::Lt(number.clone())
                }
            }
            "$min_len" | "$max_len" => {
                let len = arg
                    .as_u64()
                    .ok_or_else(|| arg_err(format!("`{key}` takes a non-negative integer")))?;
                if key == "$min_len" {
                    Pattern::MinLen(len)
                } else {
                    Pattern::MaxLen(len)
                }
            }
            other => {
                return Err(arg_err(format!(
                    "unknown matcher `{other}` (known: {MATCHER_KEYS})"
                )));
            }
        };
        parts.push(part);
    }
    // The capture goes last so reports list the checks first; commit-on-pass makes the order
    // irrelevant for the result.
    parts.extend(capture);
    Ok(if parts.len() == 1 {
        parts.remove(0)
    } else {
        Pattern::All(parts)
    })
}

//! Matching actual JSON values against [`Pattern`]s.

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Number, Value};

use super::binary::as_binary;
use super::captures::Captures;
use super::pattern::{ExtraKeys, JsonType, ObjectPattern, Pattern, push_path};
use super::template::{Template, lookup};

/// Longest rendering of an actual value in a report before it is cut.
const MAX_RENDER: usize = 200;

/// Result of matching one value (or several, see [`match_parts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchOutcome {
    /// Everything matched.
    Pass,
    /// Matched, with notes that grade NON-STRICT (e.g. unexpected extra keys).
    NonStrict(Vec<Note>),
    /// Did not match.
    Fail(Vec<Mismatch>),
}

impl MatchOutcome {
    /// Whether the match succeeded (PASS or NON-STRICT).
    #[must_use]
    pub fn passed(&self) -> bool {
        !matches!(self, Self::Fail(_))
    }
}

/// A NON-STRICT observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// JSON-pointer-like path of the value concerned (`""` is the root).
    pub path: String,
    /// What was noticed.
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", display_path(&self.path), self.message)
    }
}

/// One reason a match failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// JSON-pointer-like path of the value concerned (`""` is the root; `/$json` marks a step
    /// into a string parsed as JSON).
    pub path: String,
    /// Short reason ("not equal", "missing key", ...).
    pub reason: String,
    /// The pattern, rendered in fixture notation.
    pub expected: String,
    /// The actual value, rendered as compact JSON (cut after 200 characters).
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: expected {}, got {}",
            display_path(&self.path),
            self.reason,
            self.expected,
            self.actual
        )
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "<root>" } else { path }
}

/// Matches `actual` against `pattern`.
///
/// Captures made by `$capture` are written to `captures` only when the outcome is PASS or
/// NON-STRICT; on FAIL `captures` is left untouched.
pub fn match_value(pattern: &Pattern, actual: &Value, captures: &mut Captures) -> MatchOutcome {
    match_parts(&[("", pattern, actual)], captures)
}

/// Matches several `(path prefix, pattern, actual)` triples as one unit: captures are committed
/// only if none fails.
///
/// Engines use it for a whole HTTP expectation, e.g.
/// `[("/status", &status, &json!(200)), ("/body", &body, &text)]`, so that a passing `status`
/// does not leave captures behind when the body fails.
pub fn match_parts(parts: &[(&str, &Pattern, &Value)], captures: &mut Captures) -> MatchOutcome {
    let mut scratch = captures.clone();
    let mut acc = Acc::default();
    for (prefix, pattern, actual) in parts {
        check(pattern, actual, prefix, &mut scratch, &mut acc);
    }
    if acc.fails.is_empty() {
        *captures = scratch;
        if acc.notes.is_empty() {
            MatchOutcome::Pass
        } else {
            MatchOutcome::NonStrict(acc.notes)
        }
    } else {
        MatchOutcome::Fail(acc.fails)
    }
}

#[derive(Default)]
struct Acc {
    fails: Vec<Mismatch>,
    notes: Vec<Note>,
}

impl Acc {
    fn fail(&mut self, path: &str, reason: impl Into<String>, expected: String, actual: &Value) {
        self.fails.push(Mismatch {
            path: path.to_owned(),
            reason: reason.into(),
            expected,
            actual: render(actual),
        });
    }
}

/// Compact JSON, cut to a readable length (payloads can be megabytes).
fn render(value: &Value) -> String {
    let text = value.to_string();
    if text.len() <= MAX_RENDER {
        return text;
    }
    let mut cut = MAX_RENDER;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… ({} bytes)", &text[..cut], text.len())
}

/// Runs `pattern` on a copy of the captures; returns the copy and what happened.
fn trial(pattern: &Pattern, actual: &Value, path: &str, captures: &Captures) -> (Captures, Acc) {
    let mut scratch = captures.clone();
    let mut acc = Acc::default();
    check(pattern, actual, path, &mut scratch, &mut acc);
    (scratch, acc)
}

fn check(pattern: &Pattern, actual: &Value, path: &str, caps: &mut Captures, acc: &mut Acc) {
    let expected = || pattern.to_string();
    match pattern {
        Pattern::Null | Pattern::Bool(_) | Pattern::Number(_) => {
            let literal = pattern.to_value();
            if !json_eq(&literal, actual) {
                acc.fail(path, "not equal", expected(), actual);
            }
        }
        Pattern::String(template) => check_string(template, actual, path, caps, acc),
        Pattern::Array(items) => {
            let Some(values) = actual.as_array() else {
                return acc.fail(path, "not an array", expected(), actual);
            };
            if values.len() != items.len() {
                acc.fail(
                    path,
                    format!("expected {} elements, got {}", items.len(), values.len()),
                    expected(),
                    actual,
                );
            }
            for (index, (item, value)) in items.iter().zip(values).enumerate() {
                check(item, value, &push_path(path, &index.to_string()), caps, acc);
            }
        }
        Pattern::Object(object) => check_object(pattern, object, actual, path, caps, acc),
        Pattern::Any => {}
        Pattern::Type(kind) => {
            if !has_type(*kind, actual) {
                acc.fail(
                    path,
                    format!("not of type {}", kind.name()),
                    expected(),
                    actual,
                );
            }
        }
        Pattern::Capture(name) => caps.set(name.clone(), actual.clone()),
        Pattern::Json(inner) => {
            let Some(text) = actual.as_str() else {
                return acc.fail(path, "not a string holding JSON", expected(), actual);
            };
            match serde_json::from_str::<Value>(text) {
                Ok(parsed) => check(inner, &parsed, &push_path(path, "$json"), caps, acc),
                Err(err) => acc.fail(path, format!("invalid JSON: {err}"), expected(), actual),
            }
        }
        Pattern::Ne(inner) => {
            if trial(inner, actual, path, caps).1.fails.is_empty() {
                acc.fail(path, "must differ", expected(), actual);
            }
        }
        Pattern::Bin(bytes) => match as_binary(actual) {
            Some(actual_bytes) if actual_bytes == *bytes => {}
            Some(_) => acc.fail(path, "different bytes", expected(), actual),
            None => acc.fail(path, "not binary", expected(), actual),
        },
        Pattern::StartsWith(template) | Pattern::EndsWith(template) => {
            let starts = matches!(pattern, Pattern::StartsWith(_));
            let affix = match template.render(caps) {
                Ok(text) => text,
                Err(err) => return acc.fail(path, err.to_string(), expected(), actual),
            };
            let ok = actual.as_str().is_some_and(|text| {
                if starts {
                    text.starts_with(&affix)
                } else {
                    text.ends_with(&affix)
                }
            });
            if !ok {
                let reason = if starts {
                    "wrong prefix"
                } else {
                    "wrong suffix"
                };
                acc.fail(path, reason, expected(), actual);
            }
        }
        Pattern::Contains(inner) => check_contains(pattern, inner, actual, path, caps, acc),
        Pattern::OneOf(alternatives) => {
            // First PASS wins; otherwise the first NON-STRICT one; only the winner's
            // captures survive.
            let mut fallback = None;
            for alternative in alternatives {
                let (scratch, trial_acc) = trial(alternative, actual, path, caps);
                if !trial_acc.fails.is_empty() {
                    continue;
                }
                if trial_acc.notes.is_empty() {
                    *caps = scratch;
                    return;
                }
                fallback.get_or_insert((scratch, trial_acc.notes));
            }
            match fallback {
                Some((scratch, notes)) => {
                    *caps = scratch;
                    acc.notes.extend(notes);
                }
                None => acc.fail(path, "no alternative matched", expected(), actual),
            }
        }
        Pattern::Gt(bound) | Pattern::Lt(bound) => {
            let wanted = if matches!(pattern, Pattern::Gt(_)) {
                Ordering::Greater
            } else {
                Ordering::Less
            };
            match actual.as_number().and_then(|number| num_cmp(number, bound)) {
                Some(ordering) if ordering == wanted => {}
                Some(_) => acc.fail(path, "out of range", expected(), actual),
                None => acc.fail(path, "not a number", expected(), actual),
            }
        }
        Pattern::MinLen(limit) | Pattern::MaxLen(limit) => match length(actual) {
            Some(len) => {
                let ok = if matches!(pattern, Pattern::MinLen(_)) {
                    len >= *limit
                } else {
                    len <= *limit
                };
                if !ok {
                    acc.fail(path, format!("length {len}"), expected(), actual);
                }
            }
            None => acc.fail(path, "has no length", expected(), actual),
        },
        Pattern::All(parts) => {
            for part in parts {
                check(part, actual, path, caps, acc);
            }
        }
    }
}

fn check_string(template: &Template, actual: &Value, path: &str, caps: &Captures, acc: &mut Acc) {
    let expected = || Value::String(template.as_str().to_owned()).to_string();
    if let Some(name) = template.whole_var() {
        // `"${name}"` alone compares with the captured value, keeping its JSON type.
        match lookup(name, caps) {
            Ok(wanted) if json_eq(wanted, actual) => {}
            Ok(wanted) => acc.fail(
                path,
                "not equal",
                format!("{} (= {})", expected(), render(wanted)),
                actual,
            ),
            Err(err) => acc.fail(path, err.to_string(), expected(), actual),
        }
        return;
    }
    match template.render(caps) {
        Ok(text) => {
            if actual.as_str() != Some(text.as_str()) {
                let shown = if template.literal().is_some() {
                    expected()
                } else {
                    format!("{} (= {})", expected(), Value::String(text))
                };
                acc.fail(path, "not equal", shown, actual);
            }
        }
        Err(err) => acc.fail(path, err.to_string(), expected(), actual),
    }
}

fn check_object(
    pattern: &Pattern,
    object: &ObjectPattern,
    actual: &Value,
    path: &str,
    caps: &mut Captures,
    acc: &mut Acc,
) {
    let map = match actual.as_object() {
        Some(map) if as_binary(actual).is_none() => map,
        _ => return acc.fail(path, "not an object", pattern.to_string(), actual),
    };
    for (key, item) in &object.fields {
        let here = push_path(path, key);
        match map.get(key) {
            Some(value) => check(item, value, &here, caps, acc),
            None => acc.fail(&here, "missing key", item.to_string(), &Value::Null),
        }
    }
    for (key, value) in map {
        if object.fields.iter().any(|(known, _)| known == key) {
            continue;
        }
        let here = push_path(path, key);
        match object.extra_keys {
            ExtraKeys::Allow => {}
            ExtraKeys::Forbid => acc.fail(&here, "unexpected key", "(absent)".to_owned(), value),
            ExtraKeys::NonStrict => acc.notes.push(Note {
                path: here,
                message: format!("unexpected key `{key}` = {}", render(value)),
            }),
        }
    }
}

fn check_contains(
    pattern: &Pattern,
    inner: &Pattern,
    actual: &Value,
    path: &str,
    caps: &mut Captures,
    acc: &mut Acc,
) {
    match actual {
        Value::String(text) => {
            let Pattern::String(template) = inner else {
                return acc.fail(
                    path,
                    "substring pattern must be a string",
                    pattern.to_string(),
                    actual,
                );
            };
            match template.render(caps) {
                Ok(needle) if text.contains(&needle) => {}
                Ok(_) => acc.fail(path, "substring not found", pattern.to_string(), actual),
                Err(err) => acc.fail(path, err.to_string(), pattern.to_string(), actual),
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let here = push_path(path, &index.to_string());
                let (scratch, trial_acc) = trial(inner, item, &here, caps);
                if trial_acc.fails.is_empty() {
                    *caps = scratch;
                    acc.notes.extend(trial_acc.notes);
                    return;
                }
            }
            acc.fail(path, "no element matches", pattern.to_string(), actual);
        }
        _ => acc.fail(path, "not a string or array", pattern.to_string(), actual),
    }
}

fn has_type(kind: JsonType, value: &Value) -> bool {
    match kind {
        JsonType::String => value.is_string(),
        JsonType::Integer => value.as_number().is_some_and(is_integer),
        JsonType::Number => value.is_number(),
        JsonType::Boolean => value.is_boolean(),
        JsonType::Array => value.is_array(),
        JsonType::Object => value.is_object() && as_binary(value).is_none(),
        JsonType::Null => value.is_null(),
        JsonType::Binary => as_binary(value).is_some(),
    }
}

fn is_integer(number: &Number) -> bool {
    number.is_i64()
        || number.is_u64()
        || number
            .as_f64()
            .is_some_and(|float| float.is_finite() && float.fract() == 0.0)
}

fn length(value: &Value) -> Option<u64> {
    let len = if let Some(bytes) = as_binary(value) {
        bytes.len()
    } else {
        match value {
            Value::String(text) => text.chars().count(),
            Value::Array(items) => items.len(),
            Value::Object(map) => map.len(),
            _ => return None,
        }
    };
    u64::try_from(len).ok()
}

/// Exact integer comparison when both are integers, float comparison otherwise.
fn num_cmp(left: &Number, right: &Number) -> Option<Ordering> {
    let as_int = |number: &Number| {
        number
            .as_i64()
            .map(i128::from)
            .or_else(|| number.as_u64().map(i128::from))
    };
    match (as_int(left), as_int(right)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => left.as_f64()?.partial_cmp(&right.as_f64()?),
    }
}

/// JSON equality with number normalisation (`1 == 1.0`) and binary leaves compared by bytes.
#[must_use]
pub fn json_eq(left: &Value, right: &Value) -> bool {
    if let (Some(a), Some(b)) = (as_binary(left), as_binary(right)) {
        return a == b;
    }
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => num_cmp(a, b) == Some(Ordering::Equal),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, x)| b.get(key).is_some_and(|y| json_eq(x, y)))
        }
        _ => left == right,
    }
}

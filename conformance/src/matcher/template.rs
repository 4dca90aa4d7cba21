//! `${name}` interpolation in fixture strings (queries, headers, bodies, payloads, patterns).

use std::fmt;

use serde_json::Value;

use super::captures::{Captures, Var};

/// A variable problem: bad `${…}` syntax at load time, or an unusable variable at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarError {
    /// The text is not a valid template (unterminated `${`, bad variable name).
    Syntax {
        /// The whole template text.
        text: String,
        /// Byte offset of the problem in `text`.
        offset: usize,
        /// What is wrong.
        message: String,
    },
    /// `${name}` names no variable.
    Unknown(String),
    /// `${name}` is a duration variable, which has no text form.
    NotAValue(String),
    /// `${pad_to(name + k)}` where `name` is not a non-negative integer, or the size is
    /// beyond `MAX_PAD`.
    NotASize(String),
}

impl fmt::Display for VarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax {
                text,
                offset,
                message,
            } => write!(f, "{message} at offset {offset} in `{text}`"),
            Self::Unknown(name) => write!(f, "unknown variable `${{{name}}}`"),
            Self::NotAValue(name) => write!(
                f,
                "`${{{name}}}` is a duration; durations can only be used in duration expressions"
            ),
            Self::NotASize(what) => write!(
                f,
                "`${{pad_to({what})}}` is not a size (a non-negative integer of at most {MAX_PAD} bytes)"
            ),
        }
    }
}

impl std::error::Error for VarError {}

/// One piece of a [`Template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Literal text (with `$${` already unescaped to `${`).
    Literal(String),
    /// A `${name}` reference.
    Var(String),
    /// `${pad_to(name + plus)}`: `x` characters up to a total of `name + plus` bytes of the
    /// text rendered so far (nothing when it is that long already). For bodies and frames of
    /// a size the server announced: `"4${pad_to(max_payload + 1)}"` is one byte too many.
    PadTo {
        /// The variable holding a byte count.
        name: String,
        /// Added to it.
        plus: u64,
    },
}

/// The largest size `${pad_to(…)}` renders (64 MiB).
pub(crate) const MAX_PAD: u64 = 64 * 1024 * 1024;

/// Parses the inside of `${pad_to(…)}`: `name` or `name + k`.
fn parse_pad_to(body: &str) -> Option<(String, u64)> {
    let inner = body.strip_prefix("pad_to(")?.strip_suffix(')')?;
    let (name, plus) = match inner.split_once('+') {
        Some((name, plus)) => (name.trim(), plus.trim().parse::<u64>().ok()?),
        None => (inner.trim(), 0),
    };
    is_var_name(name).then(|| (name.to_owned(), plus))
}

/// A string with `${name}` references, parsed once at load time.
///
/// `$${` writes a literal `${`; a `$` not followed by `{` is literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    segments: Vec<Segment>,
}

/// Whether `name` is a valid variable name: `[A-Za-z_][A-Za-z0-9_]*`.
#[must_use]
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Template {
    /// Parses `text`.
    ///
    /// # Errors
    /// [`VarError::Syntax`] for an unterminated `${` or an invalid variable name.
    pub fn parse(text: &str) -> Result<Self, VarError> {
        let syntax = |offset: usize, message: String| VarError::Syntax {
            text: text.to_owned(),
            offset,
            message,
        };
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(pos) = rest.find('$') {
            literal.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            let offset = text.len() - rest.len() + pos;
            if let Some(escaped) = after.strip_prefix("${") {
                literal.push_str("${");
                rest = escaped;
            } else if let Some(body) = after.strip_prefix('{') {
                let Some(end) = body.find('}') else {
                    return Err(syntax(offset, "unterminated `${`".to_owned()));
                };
                let name = &body[..end];
                if name.starts_with("pad_to(") {
                    let Some((name, plus)) = parse_pad_to(name) else {
                        return Err(syntax(
                            offset,
                            format!(
                                "invalid `${{{name}}}` (expected `${{pad_to(name)}}` or `${{pad_to(name + 1)}}`)"
                            ),
                        ));
                    };
                    if !literal.is_empty() {
                        segments.push(Segment::Literal(std::mem::take(&mut literal)));
                    }
                    segments.push(Segment::PadTo { name, plus });
                    rest = &body[end + 1..];
                    continue;
                }
                if !is_var_name(name) {
                    return Err(syntax(
                        offset,
                        format!("invalid variable name `{name}` (expected [A-Za-z_][A-Za-z0-9_]*)"),
                    ));
                }
                if !literal.is_empty() {
                    segments.push(Segment::Literal(std::mem::take(&mut literal)));
                }
                segments.push(Segment::Var(name.to_owned()));
                rest = &body[end + 1..];
            } else {
                literal.push('$');
                rest = after;
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            segments.push(Segment::Literal(literal));
        }
        Ok(Self {
            source: text.to_owned(),
            segments,
        })
    }

    /// A template without variables whose text is `text` (escaping any `${`).
    #[must_use]
    pub fn literal_text(text: &str) -> Self {
        let segments = if text.is_empty() {
            Vec::new()
        } else {
            vec![Segment::Literal(text.to_owned())]
        };
        Self {
            source: text.replace("${", "$${"),
            segments,
        }
    }

    /// The text as written in the fixture.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The parsed pieces.
    #[must_use]
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Names of the referenced variables, in order of appearance.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Var(name) | Segment::PadTo { name, .. } => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// `Some(name)` when the whole template is exactly `${name}`.
    #[must_use]
    pub fn whole_var(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [Segment::Var(name)] => Some(name),
            _ => None,
        }
    }

    /// The text when the template has no variable (escapes already resolved).
    #[must_use]
    pub fn literal(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [] => Some(""),
            [Segment::Literal(text)] => Some(text),
            _ => None,
        }
    }

    /// Substitutes every variable with its text form (see [`value_text`]).
    ///
    /// # Errors
    /// [`VarError::Unknown`] or [`VarError::NotAValue`] for the first unusable variable.
    pub fn render(&self, captures: &Captures) -> Result<String, VarError> {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Var(name) => out.push_str(&value_text(lookup(name, captures)?)),
                Segment::PadTo { name, plus } => {
                    let size = lookup(name, captures)?
                        .as_u64()
                        .and_then(|n| n.checked_add(*plus))
                        .filter(|n| *n <= MAX_PAD)
                        .ok_or_else(|| VarError::NotASize(format!("{name} + {plus}")))?;
                    let size = usize::try_from(size)
                        .map_err(|_| VarError::NotASize(format!("{name} + {plus}")))?;
                    if size > out.len() {
                        out.extend(std::iter::repeat_n('x', size - out.len()));
                    }
                }
            }
        }
        Ok(out)
    }
}

crate::source_text::parsed_from_text!(Template);

/// The value variable `name`, or why it cannot be used in text.
pub(crate) fn lookup<'a>(name: &str, captures: &'a Captures) -> Result<&'a Value, VarError> {
    match captures.var(name) {
        Some(Var::Value(value)) => Ok(value),
        Some(Var::Duration(_)) => Err(VarError::NotAValue(name.to_owned())),
        None => Err(VarError::Unknown(name.to_owned())),
    }
}

/// The text a value takes when interpolated: strings verbatim, everything else as compact JSON.
#[must_use]
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Parses `text` as a [`Template`] and renders it with `captures`.
///
/// # Errors
/// Any [`VarError`]: bad syntax, unknown variable, or a duration used as text.
pub fn interpolate(text: &str, captures: &Captures) -> Result<String, VarError> {
    Template::parse(text)?.render(captures)
}

/// Interpolates every string inside a JSON value (object keys are left alone).
///
/// A string that is exactly `${name}` becomes the captured value with its JSON type, so
/// `id: "${ack_id}"` sends a number when a number was captured.
///
/// # Errors
/// Any [`VarError`] met in one of the strings.
pub fn interpolate_value(value: &Value, captures: &Captures) -> Result<Value, VarError> {
    Ok(match value {
        Value::String(text) => {
            let template = Template::parse(text)?;
            match template.whole_var() {
                Some(name) => lookup(name, captures)?.clone(),
                None => Value::String(template.render(captures)?),
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| interpolate_value(item, captures))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| Ok((key.clone(), interpolate_value(item, captures)?)))
                .collect::<Result<_, VarError>>()?,
        ),
        other => other.clone(),
    })
}

/// Variables referenced by the strings inside a JSON value, with syntax errors.
///
/// # Errors
/// The first [`VarError::Syntax`] found.
pub fn value_variables(value: &Value) -> Result<Vec<String>, VarError> {
    let mut names = Vec::new();
    collect_value_variables(value, &mut names)?;
    Ok(names)
}

fn collect_value_variables(value: &Value, names: &mut Vec<String>) -> Result<(), VarError> {
    match value {
        Value::String(text) => {
            names.extend(Template::parse(text)?.variables().map(str::to_owned));
        }
        Value::Array(items) => {
            for item in items {
                collect_value_variables(item, names)?;
            }
        }
        Value::Object(map) => {
            for item in map.values() {
                collect_value_variables(item, names)?;
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod pad_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pad_to_fills_the_text_to_a_captured_size() {
        let mut captures = Captures::new();
        captures.set("max", json!(5));
        let template = Template::parse("4${pad_to(max + 1)}").unwrap();
        assert_eq!(template.variables().collect::<Vec<_>>(), ["max"]);
        assert_eq!(template.render(&captures).unwrap(), "4xxxxx");
        let exact = Template::parse("abcdefg${pad_to(max)}").unwrap();
        assert_eq!(exact.render(&captures).unwrap(), "abcdefg");
        assert!(Template::parse("${pad_to(max - 1)}").is_err());
        assert!(Template::parse("${pad_to(1max)}").is_err());
        captures.set("text", json!("five"));
        assert_eq!(
            Template::parse("${pad_to(text)}")
                .unwrap()
                .render(&captures),
            Err(VarError::NotASize("text + 0".into()))
        );
    }
}

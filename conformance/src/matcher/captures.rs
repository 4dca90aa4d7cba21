//! Variables visible to fixture steps: values captured by `$capture` and built-ins the engine sets.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

/// One variable: a JSON value (captured or built-in) or a duration (built-ins such as `slack`).
///
/// Durations are kept apart from values so that `${slack}` in a duration expression needs no
/// unit while `${ping_interval}` (a captured integer) must say `ms` or `s`.
#[derive(Debug, Clone, PartialEq)]
pub enum Var {
    /// A JSON value: captured from a response, or a built-in such as `base` or `case_id`.
    Value(Value),
    /// A duration, usable bare in duration expressions (`${slack}`).
    Duration(Duration),
}

/// The variables of one running case instance.
///
/// The engine creates one per case instance, registers its built-ins (`base`, `slack`,
/// `case_id`, ...) and passes it to [`match_value`](super::match_value), which adds captures
/// only when a whole match succeeds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Captures {
    vars: BTreeMap<String, Var>,
}

impl Captures {
    /// An empty set of variables.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets (or replaces) a value variable.
    pub fn set(&mut self, name: impl Into<String>, value: Value) {
        self.vars.insert(name.into(), Var::Value(value));
    }

    /// Sets (or replaces) a duration variable.
    pub fn set_duration(&mut self, name: impl Into<String>, duration: Duration) {
        self.vars.insert(name.into(), Var::Duration(duration));
    }

    /// The variable called `name`, of either kind.
    #[must_use]
    pub fn var(&self, name: &str) -> Option<&Var> {
        self.vars.get(name)
    }

    /// The value variable called `name` (`None` for unknown names and for durations).
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self.vars.get(name) {
            Some(Var::Value(value)) => Some(value),
            _ => None,
        }
    }

    /// The duration variable called `name` (`None` for unknown names and for values).
    #[must_use]
    pub fn duration(&self, name: &str) -> Option<Duration> {
        match self.vars.get(name) {
            Some(Var::Duration(duration)) => Some(*duration),
            _ => None,
        }
    }

    /// Whether a variable of either kind is called `name`.
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }

    /// All variables, sorted by name (for transcripts and reports).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.vars.iter().map(|(name, var)| (name.as_str(), var))
    }

    /// Number of variables.
    #[must_use]
    pub fn len(&self) -> usize {
        self.vars.len()
    }

    /// Whether there is no variable at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }
}

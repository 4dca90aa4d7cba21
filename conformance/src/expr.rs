//! Duration expressions (`within`, `for`, `sleep`, `timing`, `step_timeout`).
//!
//! Grammar: a sum or difference of terms; a term is `<number><unit>`, `${var}<unit>` (a
//! captured number times the unit), or `${var}` (a duration variable such as `slack`), and may
//! be multiplied by a plain number on either side: `2 * ${ping_interval}ms + ${slack}`.
//! Units are `ms` and `s`. Expressions are parsed at load time and evaluated with the case's
//! [`Captures`] when the step runs, so no protocol constant is hard-coded in fixtures.

use std::fmt;
use std::time::Duration;

use crate::matcher::{Captures, Var, is_var_name};

/// A parsed duration expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    source: String,
    terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq)]
struct Term {
    /// Sign and numeric factor (`-2 * x` is -2.0).
    factor: f64,
    atom: Atom,
}

#[derive(Debug, Clone, PartialEq)]
enum Atom {
    /// A literal, in milliseconds.
    Millis(f64),
    /// A captured number times a unit (milliseconds per unit).
    Scaled { name: String, unit_ms: f64 },
    /// A duration variable.
    Duration(String),
}

/// Why an expression could not be parsed or evaluated.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprError {
    /// Bad syntax (load time).
    Syntax {
        /// The expression text.
        text: String,
        /// Byte offset of the problem.
        offset: usize,
        /// What is wrong.
        message: String,
    },
    /// The expression names a variable that is not set.
    UnknownVariable(String),
    /// `${var}<unit>` where the variable is not a number.
    NotANumber {
        /// Variable name.
        name: String,
        /// Its value, as JSON.
        value: String,
    },
    /// `${var}` without a unit where the variable is not a duration.
    NotADuration(String),
    /// The result does not fit a [`Duration`].
    Overflow(String),
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax {
                text,
                offset,
                message,
            } => write!(
                f,
                "invalid duration expression `{text}` at offset {offset}: {message}"
            ),
            Self::UnknownVariable(name) => write!(f, "unknown variable `${{{name}}}`"),
            Self::NotANumber { name, value } => {
                write!(f, "`${{{name}}}` is {value}, not a number")
            }
            Self::NotADuration(name) => write!(
                f,
                "`${{{name}}}` is not a duration; give it a unit, e.g. `${{{name}}}ms`"
            ),
            Self::Overflow(text) => write!(f, "duration expression `{text}` overflows"),
        }
    }
}

impl std::error::Error for ExprError {}

impl Expr {
    /// Parses an expression.
    ///
    /// # Errors
    /// [`ExprError::Syntax`] with the offset of the first problem.
    pub fn parse(text: &str) -> Result<Self, ExprError> {
        let mut parser = Parser { text, pos: 0 };
        let terms = parser.expr()?;
        Ok(Self {
            source: text.to_owned(),
            terms,
        })
    }

    /// The expression as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Variables the expression reads, in order of appearance.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().filter_map(|term| match &term.atom {
            Atom::Millis(_) => None,
            Atom::Scaled { name, .. } | Atom::Duration(name) => Some(name.as_str()),
        })
    }

    /// Whether a term is a literal duration (`20ms`, `2s`) rather than a variable (a factor
    /// such as the `2` of `2 * ${ping_interval}ms` is not a duration).
    #[must_use]
    pub fn has_literal(&self) -> bool {
        self.terms
            .iter()
            .any(|term| matches!(term.atom, Atom::Millis(_)))
    }

    /// Evaluates with `captures`; negative results clamp to zero.
    ///
    /// # Errors
    /// Unknown variables, variables of the wrong kind, or overflow.
    pub fn eval(&self, captures: &Captures) -> Result<Duration, ExprError> {
        let mut total_ms = 0.0_f64;
        for term in &self.terms {
            let millis = match &term.atom {
                Atom::Millis(millis) => *millis,
                Atom::Scaled { name, unit_ms } => match captures.var(name) {
                    Some(Var::Value(value)) => {
                        let number = value.as_f64().ok_or_else(|| ExprError::NotANumber {
                            name: name.clone(),
                            value: value.to_string(),
                        })?;
                        number * unit_ms
                    }
                    // A duration variable with a unit (`${slack}ms`) is read as its count of
                    // that unit, which is never what was meant: refuse it.
                    Some(Var::Duration(duration)) => {
                        return Err(ExprError::NotANumber {
                            name: name.clone(),
                            value: format!("the duration {duration:?}"),
                        });
                    }
                    None => return Err(ExprError::UnknownVariable(name.clone())),
                },
                Atom::Duration(name) => match captures.var(name) {
                    Some(Var::Duration(duration)) => duration.as_secs_f64() * 1000.0,
                    Some(Var::Value(_)) => return Err(ExprError::NotADuration(name.clone())),
                    None => return Err(ExprError::UnknownVariable(name.clone())),
                },
            };
            total_ms += term.factor * millis;
        }
        if !total_ms.is_finite() {
            return Err(ExprError::Overflow(self.source.clone()));
        }
        Duration::try_from_secs_f64(total_ms.max(0.0) / 1000.0)
            .map_err(|_| ExprError::Overflow(self.source.clone()))
    }
}

/// Evaluates `expr` with `captures` (see [`Expr::eval`]).
///
/// # Errors
/// As [`Expr::eval`].
pub fn eval(expr: &Expr, captures: &Captures) -> Result<Duration, ExprError> {
    expr.eval(captures)
}

crate::source_text::parsed_from_text!(Expr);

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> ExprError {
        ExprError::Syntax {
            text: self.text.to_owned(),
            offset: self.pos,
            message: message.into(),
        }
    }

    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.text.len() - trimmed.len();
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Result<Vec<Term>, ExprError> {
        let mut terms = Vec::new();
        self.skip_ws();
        if self.rest().is_empty() {
            return Err(self.error("empty expression"));
        }
        let mut sign = if self.eat("-") {
            -1.0
        } else {
            self.eat("+");
            1.0
        };
        loop {
            self.skip_ws();
            let mut term = self.term()?;
            term.factor *= sign;
            terms.push(term);
            self.skip_ws();
            if self.rest().is_empty() {
                return Ok(terms);
            }
            sign = if self.eat("+") {
                1.0
            } else if self.eat("-") {
                -1.0
            } else {
                return Err(self.error("expected `+`, `-` or the end"));
            };
        }
    }

    /// `[number *] atom [* number]`.
    fn term(&mut self) -> Result<Term, ExprError> {
        let mut factor = 1.0;
        if let Some(number) = self.number()? {
            if let Some(unit_ms) = self.unit() {
                return Ok(self.post_factor(Term {
                    factor,
                    atom: Atom::Millis(number * unit_ms),
                }));
            }
            self.skip_ws();
            if !self.eat("*") {
                return Err(self.error("expected a unit (`ms` or `s`) or `*` after the number"));
            }
            self.skip_ws();
            factor = number;
        }
        let atom = self.atom()?;
        Ok(self.post_factor(Term { factor, atom }))
    }

    fn post_factor(&mut self, mut term: Term) -> Term {
        let start = self.pos;
        self.skip_ws();
        if self.eat("*") {
            self.skip_ws();
            if let Ok(Some(number)) = self.number()
                && self.unit().is_none()
            {
                term.factor *= number;
                return term;
            }
        }
        // Not a trailing factor: leave the input for the caller to report.
        self.pos = start;
        term
    }

    fn atom(&mut self) -> Result<Atom, ExprError> {
        if self.eat("${") {
            let Some(end) = self.rest().find('}') else {
                return Err(self.error("unterminated `${`"));
            };
            let name = self.rest()[..end].to_owned();
            if !is_var_name(&name) {
                return Err(self.error(format!("invalid variable name `{name}`")));
            }
            self.pos += end + 1;
            return Ok(match self.unit() {
                Some(unit_ms) => Atom::Scaled { name, unit_ms },
                None => Atom::Duration(name),
            });
        }
        match self.number()? {
            Some(number) => match self.unit() {
                Some(unit_ms) => Ok(Atom::Millis(number * unit_ms)),
                None => Err(self.error("expected a unit (`ms` or `s`) after the number")),
            },
            None => Err(self.error("expected a duration (`150ms`, `2s`) or `${variable}`")),
        }
    }

    fn number(&mut self) -> Result<Option<f64>, ExprError> {
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(self.rest().len());
        if len == 0 {
            return Ok(None);
        }
        let digits = &self.rest()[..len];
        let number = digits
            .parse::<f64>()
            .map_err(|_| self.error(format!("invalid number `{digits}`")))?;
        self.pos += len;
        Ok(Some(number))
    }

    /// Milliseconds per unit, consuming the unit.
    fn unit(&mut self) -> Option<f64> {
        // Longest unit first so that `ms` is not read as `m`+`s`; a unit must not run into
        // further letters (`2sec` is an error, not `2s` + `ec`).
        for (unit, millis) in [("ms", 1.0), ("s", 1000.0)] {
            if let Some(after) = self.rest().strip_prefix(unit)
                && !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            {
                self.pos += unit.len();
                return Some(millis);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn caps() -> Captures {
        let mut captures = Captures::new();
        captures.set("ping_interval", json!(300));
        captures.set("half", json!(0.5));
        captures.set("sid", json!("abc"));
        captures.set_duration("slack", Duration::from_millis(150));
        captures
    }

    fn ms(text: &str) -> u128 {
        Expr::parse(text)
            .unwrap()
            .eval(&caps())
            .unwrap()
            .as_millis()
    }

    #[test]
    fn literals_and_units() {
        assert_eq!(ms("150ms"), 150);
        assert_eq!(ms("2s"), 2000);
        assert_eq!(ms("1.5s"), 1500);
        assert_eq!(ms(" 1s + 20ms - 5ms "), 1015);
        assert_eq!(ms("0ms"), 0);
    }

    #[test]
    fn variables_and_factors() {
        assert_eq!(ms("${ping_interval}ms + ${slack}"), 450);
        assert_eq!(ms("${ping_interval}ms - ${slack}"), 150);
        assert_eq!(ms("2 * ${ping_interval}ms"), 600);
        assert_eq!(ms("${ping_interval}ms * 2 + 1s"), 1600);
        assert_eq!(ms("${half}s"), 500);
        assert_eq!(ms("-${slack} + 1s"), 850);
        let expr = Expr::parse("2 * ${ping_interval}ms + ${slack}").unwrap();
        assert_eq!(
            expr.variables().collect::<Vec<_>>(),
            ["ping_interval", "slack"]
        );
        assert_eq!(expr.to_string(), "2 * ${ping_interval}ms + ${slack}");
        assert!(!expr.has_literal(), "a factor is not a literal duration");
        assert!(
            Expr::parse("${ping_interval}ms + 1s")
                .unwrap()
                .has_literal()
        );
        assert!(Expr::parse("20ms").unwrap().has_literal());
    }

    #[test]
    fn negative_results_clamp_to_zero() {
        assert_eq!(ms("100ms - 1s"), 0);
        assert_eq!(
            eval(
                &Expr::parse("${slack} - ${ping_interval}ms").unwrap(),
                &caps()
            )
            .unwrap(),
            Duration::ZERO
        );
    }

    #[test]
    fn syntax_errors() {
        for (text, offset, needle) in [
            ("", 0, "empty"),
            ("150", 3, "unit"),
            ("150 ms", 4, "`*`"),
            ("2sec", 1, "unit"),
            ("1s +", 4, "expected a duration"),
            ("1s 2s", 3, "`+`"),
            ("${x", 2, "unterminated"),
            ("${1x}ms", 2, "variable name"),
            ("2 * 3", 5, "unit"),
            ("1..2s", 0, "invalid number"),
            ("abc", 0, "expected a duration"),
        ] {
            match Expr::parse(text) {
                Err(ExprError::Syntax {
                    offset: got,
                    message,
                    ..
                }) => {
                    assert_eq!(got, offset, "{text}: {message}");
                    assert!(message.contains(needle), "{text}: {message}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn evaluation_errors() {
        let eval_err = |text: &str| Expr::parse(text).unwrap().eval(&caps()).unwrap_err();
        assert_eq!(
            eval_err("${nope}ms"),
            ExprError::UnknownVariable("nope".into())
        );
        assert!(matches!(eval_err("${sid}ms"), ExprError::NotANumber { .. }));
        assert!(matches!(
            eval_err("${slack}ms"),
            ExprError::NotANumber { .. }
        ));
        assert_eq!(
            eval_err("${ping_interval}"),
            ExprError::NotADuration("ping_interval".into())
        );
        assert!(
            eval_err("${ping_interval}")
                .to_string()
                .contains("${ping_interval}ms")
        );
        let mut huge = caps();
        huge.set("big", json!(1e300));
        let err = Expr::parse("${big}s").unwrap().eval(&huge).unwrap_err();
        assert!(matches!(err, ExprError::Overflow(_)));
    }
}

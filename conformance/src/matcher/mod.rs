//! Value matcher: fixture patterns against actual JSON values, with captures and `${var}`
//! interpolation.
//!
//! Actual values are [`serde_json::Value`]s built by the engine; a byte string inside one is
//! the binary leaf `{"$bin": "<lowercase hex>"}` (see [`binary_value`]). Patterns are parsed
//! at fixture load time into [`Pattern`] and matched with [`match_value`]. The outcome is PASS,
//! NON-STRICT (with notes) or FAIL (with mismatches); captures are committed only when the
//! whole match succeeds.

mod binary;
mod captures;
mod eval;
mod pattern;
mod template;

pub use binary::{BIN_KEY, as_binary, binary_value, decode_bin_spec};
pub use captures::{Captures, Var};
pub use eval::{MatchOutcome, Mismatch, Note, json_eq, match_parts, match_value};
pub use pattern::{ExtraKeys, JsonType, ObjectPattern, Pattern, PatternError};
pub use template::{
    Segment, Template, VarError, interpolate, interpolate_value, is_var_name, value_text,
    value_variables,
};

#[cfg(test)]
mod tests;

//! Serde mirror of the YAML syntax. Every struct denies unknown fields so typos are errors;
//! [`super::convert`] turns these into the typed model and checks the combinations serde
//! cannot express (exactly one action per step, ...).
//!
//! Steps are wrapped in [`Spanned`] to keep their line; values that take two shapes are
//! read by hand-written visitors rather than `#[serde(untagged)]`, because untagged
//! buffering drops both spans and the precise error message.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::value::{
    I64Deserializer, MapAccessDeserializer, SeqAccessDeserializer, StrDeserializer, U64Deserializer,
};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

use super::model::{Grade, Heartbeat, Layer, Level, SpecRef, Transport};
use super::packet::{EioType, SioType};
use crate::expr::Expr;
use crate::matcher::{Pattern, Template};

pub(super) type SpannedSteps = Vec<Spanned<RawStep>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSuite {
    pub(super) schema: Spanned<String>,
    pub(super) suite: Spanned<String>,
    #[serde(default)]
    pub(super) title: Option<String>,
    #[serde(default)]
    pub(super) spec: Option<RawSpecSource>,
    #[serde(default)]
    pub(super) defaults: RawDefaults,
    #[serde(default)]
    pub(super) fragments: BTreeMap<String, Spanned<SpannedSteps>>,
    pub(super) cases: Vec<Spanned<RawCase>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpecSource {
    pub(super) base_url: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefaults {
    pub(super) path: Option<String>,
    pub(super) heartbeat: Option<Heartbeat>,
    pub(super) transports: Option<Vec<Transport>>,
    pub(super) level: Option<Level>,
    pub(super) step_timeout: Option<Spanned<Expr>>,
    #[serde(default)]
    pub(super) requires: Vec<String>,
    pub(super) eio: Option<Vec<u8>>,
    pub(super) layer: Option<Layer>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCase {
    pub(super) id: String,
    pub(super) title: String,
    #[serde(default)]
    pub(super) official: OneOrMany<String>,
    #[serde(default)]
    pub(super) spec: OneOrMany<SpecRef>,
    pub(super) level: Option<Level>,
    #[serde(default)]
    pub(super) requires: Vec<String>,
    #[serde(default)]
    pub(super) provides: Vec<String>,
    #[serde(default)]
    pub(super) serial: bool,
    pub(super) transports: Option<Vec<Transport>>,
    pub(super) eio: Option<Vec<u8>>,
    pub(super) heartbeat: Option<Heartbeat>,
    pub(super) path: Option<String>,
    pub(super) layer: Option<Layer>,
    pub(super) steps: SpannedSteps,
}

/// Union of every key a step may have; [`super::convert`] decides which combinations are valid.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub(super) id: Option<String>,
    pub(super) level: Option<Level>,
    pub(super) note: Option<String>,
    pub(super) fixed_duration: Option<String>,
    pub(super) within: Option<Expr>,
    pub(super) timing: Option<RawTiming>,
    pub(super) spec: Option<OneOrMany<SpecRef>>,
    pub(super) when: Option<RawWhen>,
    pub(super) http: Option<RawHttp>,
    #[serde(rename = "await")]
    pub(super) await_id: Option<String>,
    pub(super) ws_open: Option<RawWsOpen>,
    pub(super) open: Option<RawOpen>,
    pub(super) send: Option<RawSend>,
    pub(super) expect: Option<RawExpect>,
    pub(super) expect_none: Option<RawExpectNone>,
    pub(super) unordered: Option<RawUnordered>,
    pub(super) sleep: Option<Expr>,
    pub(super) repeat: Option<u32>,
    pub(super) steps: Option<SpannedSteps>,
    #[serde(rename = "use")]
    pub(super) use_fragment: Option<String>,
    pub(super) close: Option<RawClose>,
    pub(super) record: Option<RawRecord>,
}

/// `when:` of a step: the axis values it is kept for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWhen {
    pub(super) eio: OneOrMany<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHttp {
    pub(super) method: Option<String>,
    pub(super) query: Option<Template>,
    pub(super) url: Option<Template>,
    #[serde(default)]
    pub(super) headers: BTreeMap<String, Template>,
    pub(super) body: Option<RawBody>,
    #[serde(rename = "async")]
    pub(super) async_id: Option<RawAsync>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBody {
    pub(super) text: Option<Template>,
    pub(super) hex: Option<String>,
    pub(super) eio: Option<Vec<RawEioPacket>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWsOpen {
    pub(super) conn: String,
    pub(super) query: Option<Template>,
    pub(super) url: Option<Template>,
    #[serde(default)]
    pub(super) headers: BTreeMap<String, Template>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOpen {
    pub(super) conn: String,
    pub(super) query: Option<Template>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSend {
    pub(super) conn: String,
    pub(super) eio: Option<RawEioPacket>,
    pub(super) sio: Option<RawSioPacket>,
    pub(super) raw: Option<RawRawOut>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRawOut {
    pub(super) text: Option<Template>,
    pub(super) hex: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRawIn {
    pub(super) text: Option<Pattern>,
    pub(super) hex: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEioPacket {
    #[serde(rename = "type")]
    pub(super) kind: EioType,
    pub(super) data: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSioPacket {
    #[serde(rename = "type")]
    pub(super) kind: SioType,
    pub(super) nsp: Option<String>,
    pub(super) id: Option<Value>,
    pub(super) data: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEioPattern {
    #[serde(rename = "type")]
    pub(super) kind: EioType,
    pub(super) data: Option<Pattern>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSioPattern {
    #[serde(rename = "type")]
    pub(super) kind: SioType,
    pub(super) nsp: Option<Pattern>,
    pub(super) id: Option<Pattern>,
    pub(super) data: Option<Pattern>,
}

/// Union of the connection expectation (`conn`, `eio`, ...) and the response expectation
/// (`status`, `body`, ...): the same `expect` key carries either, depending on the step.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExpect {
    pub(super) conn: Option<String>,
    pub(super) eio: Option<RawEioPattern>,
    pub(super) sio: Option<RawSioPattern>,
    pub(super) raw: Option<RawRawIn>,
    pub(super) closed: Option<bool>,
    pub(super) within: Option<Expr>,
    pub(super) timing: Option<RawTiming>,
    pub(super) spec: Option<OneOrMany<SpecRef>>,
    pub(super) status: Option<Pattern>,
    pub(super) headers: Option<BTreeMap<String, Pattern>>,
    pub(super) body: Option<RawBodyExpect>,
    pub(super) rejected: Option<bool>,
    pub(super) one_of: Option<Vec<Self>>,
    pub(super) gather: Option<Grade>,
    pub(super) grade: Option<Grade>,
    pub(super) note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBodyExpect {
    pub(super) text: Option<Pattern>,
    pub(super) eio: Option<Vec<RawEioPattern>>,
    pub(super) json: Option<Pattern>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExpectNone {
    pub(super) conn: String,
    #[serde(rename = "for")]
    pub(super) duration: Expr,
}

/// `record: {conn: c}` (drafts for `conformance record`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRecord {
    pub(super) conn: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClose {
    pub(super) conn: String,
    pub(super) code: Option<u16>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTiming {
    pub(super) since: Option<String>,
    pub(super) min: Option<RawBound>,
    pub(super) max: Option<RawBound>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBoundFull {
    pub(super) at: Expr,
    pub(super) grade: Option<Grade>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUnorderedFull {
    pub(super) within: Option<Expr>,
    pub(super) steps: SpannedSteps,
}

/// `min:`/`max:` of a timing: an expression, or `{at, grade}`.
#[derive(Debug)]
pub(super) enum RawBound {
    Plain(Expr),
    Full(RawBoundFull),
}

/// `unordered:`: a step list, or `{within, steps}`.
#[derive(Debug)]
pub(super) enum RawUnordered {
    Steps(SpannedSteps),
    Full(RawUnorderedFull),
}

/// `async:` on an HTTP step: an id, or `true` to use the step's `id`.
#[derive(Debug)]
pub(super) enum RawAsync {
    Flag(bool),
    Id(String),
}

/// A single value or a list of values.
#[derive(Debug)]
pub(super) struct OneOrMany<T>(pub(super) Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de> Deserialize<'de> for RawBound {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BoundVisitor;
        impl<'de> Visitor<'de> for BoundVisitor {
            type Value = RawBound;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration expression or {at: <expression>, grade: <grade>}")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<RawBound, E> {
                Expr::parse(text).map(RawBound::Plain).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawBound, A::Error> {
                RawBoundFull::deserialize(MapAccessDeserializer::new(map)).map(RawBound::Full)
            }
        }
        deserializer.deserialize_any(BoundVisitor)
    }
}

impl<'de> Deserialize<'de> for RawUnordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UnorderedVisitor;
        impl<'de> Visitor<'de> for UnorderedVisitor {
            type Value = RawUnordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of steps or {within: <expression>, steps: [...]}")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawUnordered, A::Error> {
                SpannedSteps::deserialize(SeqAccessDeserializer::new(seq)).map(RawUnordered::Steps)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawUnordered, A::Error> {
                RawUnorderedFull::deserialize(MapAccessDeserializer::new(map))
                    .map(RawUnordered::Full)
            }
        }
        deserializer.deserialize_any(UnorderedVisitor)
    }
}

impl<'de> Deserialize<'de> for RawAsync {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AsyncVisitor;
        impl Visitor<'_> for AsyncVisitor {
            type Value = RawAsync;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id for the pending request, or `true` to use the step's `id`")
            }
            fn visit_bool<E: de::Error>(self, flag: bool) -> Result<RawAsync, E> {
                Ok(RawAsync::Flag(flag))
            }
            fn visit_str<E: de::Error>(self, id: &str) -> Result<RawAsync, E> {
                Ok(RawAsync::Id(id.to_owned()))
            }
        }
        deserializer.deserialize_any(AsyncVisitor)
    }
}

impl<'de> Deserialize<'de> for SpecRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Anchor {
            anchor: String,
            quote: Option<String>,
        }
        struct SpecVisitor;
        impl<'de> Visitor<'de> for SpecVisitor {
            type Value = SpecRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a requirement id or {anchor: \"#…\", quote: \"…\"}")
            }
            fn visit_str<E: de::Error>(self, id: &str) -> Result<SpecRef, E> {
                Ok(SpecRef::Requirement(id.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SpecRef, A::Error> {
                let Anchor { anchor, quote } =
                    Anchor::deserialize(MapAccessDeserializer::new(map))?;
                Ok(SpecRef::Anchor { anchor, quote })
            }
        }
        deserializer.deserialize_any(SpecVisitor)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ManyVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ManyVisitor<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<OneOrMany<T>, A::Error> {
                Vec::<T>::deserialize(SeqAccessDeserializer::new(seq)).map(OneOrMany)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<OneOrMany<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|one| OneOrMany(vec![one]))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<OneOrMany<T>, E> {
                T::deserialize(StrDeserializer::<E>::new(text)).map(|one| OneOrMany(vec![one]))
            }
            fn visit_u64<E: de::Error>(self, number: u64) -> Result<OneOrMany<T>, E> {
                T::deserialize(U64Deserializer::<E>::new(number)).map(|one| OneOrMany(vec![one]))
            }
            fn visit_i64<E: de::Error>(self, number: i64) -> Result<OneOrMany<T>, E> {
                T::deserialize(I64Deserializer::<E>::new(number)).map(|one| OneOrMany(vec![one]))
            }
        }
        deserializer.deserialize_any(ManyVisitor(PhantomData))
    }
}

//! [`Args`]: every argument of an event or an acknowledgement, as a list.
//!
//! socketioxide hands a handler the *first* argument of an event unless the extracted type is
//! tuple-like: then it gets them all. A `Vec` is not tuple-like, so `Args` deserializes and
//! serializes itself as a tuple of any length. Each argument is an [`rmpv::Value`], which has a
//! binary variant: socketioxide turns `{"_placeholder":true,"num":…}` into bytes on the way in
//! and bytes into placeholders + attachments on the way out, at any depth (a
//! `serde_json::Value` would turn them into arrays of numbers).

use std::fmt;

use rmpv::Value;
use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeTuple, Serializer};

/// The arguments of an event (after its name) or of an ACK, in order; zero is fine.
#[derive(Debug, Clone, Default)]
pub struct Args(pub Vec<Value>);

impl Args {
    /// The first argument if it is a string (a room name, a socket id).
    pub fn first_str(&self) -> Option<&str> {
        self.0.first().and_then(Value::as_str)
    }

    /// Every argument but the first.
    pub fn rest(&self) -> Args {
        Args(self.0.iter().skip(1).cloned().collect())
    }
}

impl Serialize for Args {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // A tuple: socketioxide spreads it into separate arguments (`["event", a, b]`).
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for arg in &self.0 {
            tuple.serialize_element(arg)?;
        }
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ArgsVisitor;

        impl<'de> Visitor<'de> for ArgsVisitor {
            type Value = Args;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of arguments")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Args, A::Error> {
                let mut args = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(arg) = seq.next_element()? {
                    args.push(arg);
                }
                Ok(Args(args))
            }
        }

        // A tuple "of any length": socketioxide then passes every argument, not only the first.
        deserializer.deserialize_tuple(usize::MAX, ArgsVisitor)
    }
}

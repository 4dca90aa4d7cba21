//! Deserializing packet types from their spec names (`"ping"`, `"BINARY_EVENT"`).

use core::fmt;
use serde::de::{self, Visitor};

/// Deserializes a string through `from_name`; the error lists the `names` accepted.
pub(crate) fn deserialize<'de, D, T>(
    deserializer: D,
    from_name: fn(&str) -> Option<T>,
    names: &'static [&'static str],
) -> Result<T, D::Error>
where
    D: de::Deserializer<'de>,
{
    struct Name<T> {
        from_name: fn(&str) -> Option<T>,
        names: &'static [&'static str],
    }
    impl<T> Visitor<'_> for Name<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a packet type name")
        }
        fn visit_str<E: de::Error>(self, name: &str) -> Result<T, E> {
            (self.from_name)(name).ok_or_else(|| E::unknown_variant(name, self.names))
        }
    }
    deserializer.deserialize_str(Name { from_name, names })
}

//! Fixture values written as text (a duration expression, a `${var}` template): parsed when
//! the fixture loads, shown as they were written.

/// `Display` (the source text) and `Deserialize` (from a string, through the type's
/// `parse`, whose error becomes the deserializer's) for a type with a `source: String` field
/// and `fn parse(&str) -> Result<Self, E>`.
macro_rules! parsed_from_text {
    ($type:ty) => {
        impl ::std::fmt::Display for $type {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.source)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $type {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                let text = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                Self::parse(&text).map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use parsed_from_text;

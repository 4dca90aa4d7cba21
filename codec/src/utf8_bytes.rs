//! [`Utf8Bytes`]: reference-counted bytes known to be UTF-8.
//!
//! The only module allowed `unsafe`: `as_str` skips re-validation. The invariant (the bytes
//! are valid UTF-8) is established by every constructor and no safe API can break it: there
//! is no slicing by byte range, only by a `&str` that safe code already cut on character
//! boundaries (the design of tungstenite's `Utf8Bytes`).
#![allow(unsafe_code)]

use bytes::Bytes;
use core::{fmt, ops::Deref};

/// Cheaply cloneable UTF-8 text backed by [`Bytes`].
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// Wraps a static string without copying.
    pub const fn from_static(s: &'static str) -> Self {
        Self(Bytes::from_static(s.as_bytes()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor validates UTF-8 or starts from a `&str`/`String`, and the
        // inner bytes are never exposed mutably nor sliced outside character boundaries.
        unsafe { core::str::from_utf8_unchecked(&self.0) }
    }

    /// The underlying bytes (a refcount bump, no copy).
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Consumes the text, returning its bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// A view of `sub`, which must be a sub-slice of `self.as_str()`: no copy. Returns an
    /// empty value when `sub` does not point inside `self` (only possible through a bug;
    /// never undefined behaviour).
    pub(crate) fn slice_ref(&self, sub: &str) -> Self {
        if sub.is_empty() {
            return Self::default();
        }
        let base = self.0.as_ptr() as usize;
        let start = sub.as_ptr() as usize;
        if start < base || start + sub.len() > base + self.0.len() {
            return Self::default();
        }
        // `sub` is a `&str` inside our bytes, so both ends are character boundaries.
        Self(self.0.slice_ref(sub.as_bytes()))
    }
}

impl Utf8Bytes {
    /// A view of `sub`, a `&str` inside `bytes`: no copy, and no validation, since a `&str`
    /// is UTF-8 cut on character boundaries. A copy of `sub` when it is not inside `bytes`
    /// (only possible through a bug; never undefined behaviour).
    pub(crate) fn view_in(bytes: &Bytes, sub: &str) -> Self {
        let base = bytes.as_ptr() as usize;
        let start = sub.as_ptr() as usize;
        if sub.is_empty() {
            Self::default()
        } else if start >= base && start + sub.len() <= base + bytes.len() {
            Self(bytes.slice_ref(sub.as_bytes()))
        } else {
            Self::from(sub)
        }
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = core::str::Utf8Error;

    /// Validates `bytes` as UTF-8 without copying them.
    fn try_from(bytes: Bytes) -> Result<Self, Self::Error> {
        core::str::from_utf8(&bytes)?;
        Ok(Self(bytes))
    }
}

impl From<alloc::string::String> for Utf8Bytes {
    fn from(s: alloc::string::String) -> Self {
        Self(Bytes::from(s))
    }
}

impl From<&str> for Utf8Bytes {
    /// Copies `s`.
    fn from(s: &str) -> Self {
        Self(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl Deref for Utf8Bytes {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Utf8Bytes {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_invalid_utf8() {
        assert!(Utf8Bytes::try_from(Bytes::from_static(b"\xff")).is_err());
    }

    #[test]
    fn slices_without_copy() {
        let text = Utf8Bytes::from("4h\u{e9}llo");
        let sub = &text.as_str()[1..];
        let view = text.slice_ref(sub);
        assert_eq!(view.as_str(), "h\u{e9}llo");
        assert_eq!(view.as_bytes().as_ptr(), sub.as_ptr());
        assert_eq!(text.slice_ref("elsewhere").as_str(), "");
    }
}

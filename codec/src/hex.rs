//! Lowercase hex for dense `Debug` output of binary data.

use core::fmt;

/// Writes `bytes` as lowercase hex, eliding the middle of long buffers so snapshots stay small.
pub(crate) fn write(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    const SHOWN: usize = 32;
    if bytes.len() <= SHOWN * 2 {
        return bytes.iter().try_for_each(|b| write!(f, "{b:02x}"));
    }
    bytes[..SHOWN]
        .iter()
        .try_for_each(|b| write!(f, "{b:02x}"))?;
    write!(f, "..({} bytes)..", bytes.len() - 2 * SHOWN)?;
    bytes[bytes.len() - SHOWN..]
        .iter()
        .try_for_each(|b| write!(f, "{b:02x}"))
}

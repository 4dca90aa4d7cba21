//! Session and socket ids: 20 characters of URL-safe base64, like the reference's (12 random
//! bytes and a 3-byte counter). Randomness comes from std's randomly keyed hasher: ids need
//! to be unpredictable enough for a test server, not secure.

use base64::Engine;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh id (distinct for the life of the process: the counter part never repeats within
/// 2^24 ids, and the random part makes collisions after that negligible).
pub(crate) fn new_id() -> String {
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut bytes = [0u8; 15];
    for (i, chunk) in bytes[..12].chunks_mut(6).enumerate() {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(count);
        hasher.write_usize(i);
        chunk.copy_from_slice(&hasher.finish().to_le_bytes()[..6]);
    }
    bytes[12..].copy_from_slice(&count.to_be_bytes()[1..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_twenty_url_safe_characters_and_distinct() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| new_id()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            assert_eq!(id.len(), 20);
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
        }
    }
}

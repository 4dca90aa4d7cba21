//! Stage 1 of the fast validator: the classes of 64 bytes at a time, one bit per byte, with
//! SSE2 compares (16 bytes per instruction) or, where the CPU has AVX2, 32 bytes per
//! instruction and a nibble lookup for the operators and whitespace.
//!
//! The `unsafe` of the fast path, all here, and why each use is sound:
//! - Calling the `#[target_feature(enable = "sse2")]` functions: SSE2 is part of every x86-64
//!   CPU, and this module is compiled only where the build enables it (`target_feature =
//!   "sse2"`, on by default for every x86-64 target).
//! - Calling the `#[target_feature(enable = "avx2")]` functions: only through
//!   [`Kernel::Avx2`], which [`Kernel::detect`] returns only when the build enables AVX2 or
//!   the running CPU reports it (`is_x86_feature_detected!`, with the `std` feature).
//! - The vector loads (`loadu`, any alignment): each reads a 16- or 32-byte subslice of the
//!   block, exactly its bytes, so no memory is read that safe code could not read.
//!
//! Checked under Miri in CI (`scripts/miri.sh`: this module's and the fast validator's tests,
//! once as built by default and once with AVX2 enabled) and by fuzzing (every validation of
//! 128 bytes or more checks the fast validator against the scalar scanner when debug
//! assertions are on, see `super::validate`, and `fuzz/` builds with them).
#![allow(unsafe_code)]

use core::arch::x86_64::{
    __m128i, __m256i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8,
    _mm_or_si128, _mm_set1_epi8, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256,
    _mm256_max_epu8, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8, _mm256_setr_epi8,
    _mm256_shuffle_epi8, _mm256_srli_epi16,
};

/// The bytes of a 64-byte block that matter inside strings, bit `n` for byte `n`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Specials {
    /// `"`
    pub quote: u64,
    /// `\`
    pub backslash: u64,
    /// Below 0x20: not allowed raw inside a string.
    pub control: u64,
}

/// The bytes of a 64-byte block that matter outside strings, bit `n` for byte `n`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Structure {
    /// `{ } [ ] , :`
    pub operator: u64,
    /// JSON whitespace: space, tab, line feed, carriage return.
    pub space: u64,
}

/// The instructions the classification runs on, chosen once per text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kernel {
    Sse2,
    /// Only constructed where AVX2 is available (see [`Kernel::detect`]).
    #[cfg_attr(
        not(any(feature = "std", target_feature = "avx2")),
        expect(dead_code, reason = "without std, AVX2 only when the build enables it")
    )]
    Avx2,
}

impl Kernel {
    /// AVX2 where the build enables it or the CPU reports it, SSE2 otherwise.
    #[inline]
    pub(super) fn detect() -> Self {
        #[cfg(target_feature = "avx2")]
        return Self::Avx2;
        #[cfg(all(not(target_feature = "avx2"), feature = "std"))]
        if std::is_x86_feature_detected!("avx2") {
            return Self::Avx2;
        }
        #[cfg_attr(
            target_feature = "avx2",
            expect(unreachable_code, reason = "AVX2 built in")
        )]
        Self::Sse2
    }

    /// The specials of `block`: all a block inside a string needs.
    #[inline]
    pub(super) fn specials(self, block: &[u8; 64]) -> Specials {
        match self {
            // SAFETY: SSE2 is enabled for the whole build (see the module's `cfg` in `super`).
            Self::Sse2 => unsafe { specials_sse2(block) },
            // SAFETY: `Avx2` exists only where the CPU has AVX2 (`Kernel::detect`).
            Self::Avx2 => unsafe { specials_avx2(block) },
        }
    }

    /// Whether `block` has no quote, backslash nor control byte: [`Kernel::specials`] all
    /// zero, in one test (what a block inside a long string needs).
    #[inline]
    pub(super) fn plain(self, block: &[u8; 64]) -> bool {
        match self {
            // SAFETY: as in `specials`.
            Self::Sse2 => unsafe { plain_sse2(block) },
            // SAFETY: as in `specials`.
            Self::Avx2 => unsafe { plain_avx2(block) },
        }
    }

    /// The operators and whitespace of `block`.
    #[inline]
    pub(super) fn structure(self, block: &[u8; 64]) -> Structure {
        match self {
            // SAFETY: as in `specials`.
            Self::Sse2 => unsafe { structure_sse2(block) },
            // SAFETY: as in `specials`.
            Self::Avx2 => unsafe { structure_avx2(block) },
        }
    }
}

/// The 16 bytes of `block` at `16 * k` as a vector (`k` < 4).
#[target_feature(enable = "sse2")]
fn lane(block: &[u8; 64], k: usize) -> __m128i {
    let chunk = &block[16 * k..16 * k + 16];
    // SAFETY: `chunk` is 16 readable bytes; `loadu` reads exactly those, at any alignment.
    unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) }
}

/// The 16 bits of `mask`'s lanes (all ones or zero each), shifted to lane `k`'s place.
#[target_feature(enable = "sse2")]
fn bits(mask: __m128i, k: usize) -> u64 {
    u64::from(_mm_movemask_epi8(mask) as u16) << (16 * k)
}

#[target_feature(enable = "sse2")]
fn specials_sse2(block: &[u8; 64]) -> Specials {
    let mut specials = Specials::default();
    // Unsigned `byte <= 0x1f`: the maximum with 0x1f is 0x1f.
    let low = _mm_set1_epi8(0x1f);
    for k in 0..4 {
        let v = lane(block, k);
        let eq = |byte: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8));
        specials.quote |= bits(eq(b'"'), k);
        specials.backslash |= bits(eq(b'\\'), k);
        specials.control |= bits(_mm_cmpeq_epi8(_mm_max_epu8(v, low), low), k);
    }
    specials
}

#[target_feature(enable = "sse2")]
fn plain_sse2(block: &[u8; 64]) -> bool {
    let low = _mm_set1_epi8(0x1f);
    let mut any = _mm_set1_epi8(0);
    for k in 0..4 {
        let v = lane(block, k);
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        let control = _mm_cmpeq_epi8(_mm_max_epu8(v, low), low);
        any = _mm_or_si128(any, _mm_or_si128(_mm_or_si128(quote, backslash), control));
    }
    _mm_movemask_epi8(any) == 0
}

#[target_feature(enable = "sse2")]
fn structure_sse2(block: &[u8; 64]) -> Structure {
    let mut structure = Structure::default();
    for k in 0..4 {
        let v = lane(block, k);
        let eq = |byte: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8));
        // `[` and `{`, `]` and `}` differ by 0x20 alone, and no other byte ORed with 0x20
        // gives `{` or `}` (`,` and `:` are not paired this way: 0x0C and 0x1A would match).
        let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
        let fold_eq = |byte: u8| _mm_cmpeq_epi8(folded, _mm_set1_epi8(byte as i8));
        let operator = _mm_or_si128(
            _mm_or_si128(fold_eq(b'{'), fold_eq(b'}')),
            _mm_or_si128(eq(b','), eq(b':')),
        );
        let space = _mm_or_si128(
            _mm_or_si128(eq(b' '), eq(b'\t')),
            _mm_or_si128(eq(b'\n'), eq(b'\r')),
        );
        structure.operator |= bits(operator, k);
        structure.space |= bits(space, k);
    }
    structure
}

/// The 32 bytes of `block` at `32 * k` as a vector (`k` < 2).
#[target_feature(enable = "avx2")]
fn lane32(block: &[u8; 64], k: usize) -> __m256i {
    let chunk = &block[32 * k..32 * k + 32];
    // SAFETY: `chunk` is 32 readable bytes; `loadu` reads exactly those, at any alignment.
    unsafe { _mm256_loadu_si256(chunk.as_ptr().cast()) }
}

/// The 32 bits of `mask`'s lanes, shifted to lane `k`'s place.
#[target_feature(enable = "avx2")]
fn bits32(mask: __m256i, k: usize) -> u64 {
    u64::from(_mm256_movemask_epi8(mask) as u32) << (32 * k)
}

#[target_feature(enable = "avx2")]
fn specials_avx2(block: &[u8; 64]) -> Specials {
    let mut specials = Specials::default();
    let low = _mm256_set1_epi8(0x1f);
    for k in 0..2 {
        let v = lane32(block, k);
        let eq = |byte: u8| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(byte as i8));
        specials.quote |= bits32(eq(b'"'), k);
        specials.backslash |= bits32(eq(b'\\'), k);
        specials.control |= bits32(_mm256_cmpeq_epi8(_mm256_max_epu8(v, low), low), k);
    }
    specials
}

#[target_feature(enable = "avx2")]
fn plain_avx2(block: &[u8; 64]) -> bool {
    let low = _mm256_set1_epi8(0x1f);
    let mut any = _mm256_set1_epi8(0);
    for k in 0..2 {
        let v = lane32(block, k);
        let quote = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8));
        let backslash = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\\' as i8));
        let control = _mm256_cmpeq_epi8(_mm256_max_epu8(v, low), low);
        any = _mm256_or_si256(
            any,
            _mm256_or_si256(_mm256_or_si256(quote, backslash), control),
        );
    }
    _mm256_movemask_epi8(any) == 0
}

/// Operators and whitespace by their two nibbles: each table gives a byte's class bits for
/// its low (or high) nibble, and a byte has the bits both give. One bit per group of bytes
/// that share their nibbles: 1 `,` (0x2C), 2 `:` (0x3A), 4 `[ ] { }` (0x5B 0x5D 0x7B 0x7D),
/// 8 space (0x20), 16 tab, line feed and carriage return (0x09 0x0A 0x0D). No other byte gets
/// a bit from both tables (checked for all 256 in the tests).
const LOW_NIBBLE: [i8; 16] = [8, 0, 0, 0, 0, 0, 0, 0, 0, 16, 2 | 16, 4, 1, 4 | 16, 0, 0];
const HIGH_NIBBLE: [i8; 16] = [16, 0, 1 | 8, 2, 0, 4, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0];
const OPERATOR_BITS: i8 = 1 | 2 | 4;
const SPACE_BITS: i8 = 8 | 16;

/// A nibble table in both 16-byte halves of a vector (`vpshufb` looks up within each half).
#[target_feature(enable = "avx2")]
fn table(t: [i8; 16]) -> __m256i {
    _mm256_setr_epi8(
        t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11], t[12], t[13],
        t[14], t[15], t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11],
        t[12], t[13], t[14], t[15],
    )
}

#[target_feature(enable = "avx2")]
fn structure_avx2(block: &[u8; 64]) -> Structure {
    let mut structure = Structure::default();
    let (low_table, high_table) = (table(LOW_NIBBLE), table(HIGH_NIBBLE));
    let nibble = _mm256_set1_epi8(0x0f);
    let zero = _mm256_set1_epi8(0);
    for k in 0..2 {
        let v = lane32(block, k);
        let low = _mm256_and_si256(v, nibble);
        let high = _mm256_and_si256(_mm256_srli_epi16::<4>(v), nibble);
        let class = _mm256_and_si256(
            _mm256_shuffle_epi8(low_table, low),
            _mm256_shuffle_epi8(high_table, high),
        );
        let none = |bits: i8| {
            let masked = _mm256_and_si256(class, _mm256_set1_epi8(bits));
            bits32(_mm256_cmpeq_epi8(masked, zero), k)
        };
        let lane_bits = 0xffff_ffff_u64 << (32 * k);
        structure.operator |= !none(OPERATOR_BITS) & lane_bits;
        structure.space |= !none(SPACE_BITS) & lane_bits;
    }
    structure
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The classes computed one byte at a time.
    fn classify_bytewise(block: &[u8; 64]) -> (Specials, Structure) {
        let (mut specials, mut structure) = (Specials::default(), Structure::default());
        for (n, &byte) in block.iter().enumerate() {
            let bit = 1 << n;
            let set = |class: &mut u64, yes: bool| {
                if yes {
                    *class |= bit;
                }
            };
            set(&mut specials.quote, byte == b'"');
            set(&mut specials.backslash, byte == b'\\');
            set(&mut specials.control, byte < 0x20);
            set(&mut structure.operator, b"{}[],:".contains(&byte));
            set(&mut structure.space, b" \t\n\r".contains(&byte));
        }
        (specials, structure)
    }

    /// Every kernel this CPU can run.
    fn kernels() -> impl Iterator<Item = Kernel> {
        [Kernel::Sse2, Kernel::detect()].into_iter()
    }

    #[test]
    fn every_byte_value_in_every_lane_is_classified_as_bytewise() {
        // Each of the 256 byte values at each of the 64 positions, among neighbours that
        // change with it.
        for value in 0..=255u8 {
            let mut block = [0u8; 64];
            for (n, byte) in block.iter_mut().enumerate() {
                *byte = value.wrapping_add(n as u8).wrapping_mul(37);
            }
            for kernel in kernels() {
                let specials = kernel.specials(&block);
                let none = specials.quote | specials.backslash | specials.control == 0;
                assert_eq!(kernel.plain(&block), none, "{kernel:?} {value}");
                let classify = |block: &[u8; 64]| (kernel.specials(block), kernel.structure(block));
                assert_eq!(
                    classify(&block),
                    classify_bytewise(&block),
                    "{kernel:?} {value}"
                );
                // The blocks above already put every value at every position (the map
                // `value -> 37 * (value + n)` is one to one); Miri, which is slow, stops there.
                let places: &[usize] = if cfg!(miri) {
                    &[]
                } else {
                    &[0, 15, 16, 31, 32, 47, 48, 63]
                };
                for &at in places {
                    let mut one = [b'a'; 64];
                    one[at] = value;
                    let expected = classify_bytewise(&one);
                    assert_eq!(classify(&one), expected, "{kernel:?} {value} at {at}");
                }
            }
        }
    }
}

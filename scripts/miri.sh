#!/usr/bin/env bash
# Runs the tests of the codec's one module with SIMD `unsafe` (codec/src/socketio/scanner/
# blocks.rs) and of the fast validator over it under Miri, the interpreter that reports
# undefined behaviour: once as built by default (SSE2) and once with AVX2 enabled, so that
# both kernels run. Miri exists only on nightly toolchains: this script installs a pinned one
# (its own toolchain beside stable; the project builds on stable everywhere else).
#
#   scripts/miri.sh
set -euo pipefail
cd "$(dirname "$0")/.."

toolchain=nightly-2026-05-20
rustup toolchain install "$toolchain" --profile minimal --component miri,rust-src --no-self-update >/dev/null
# Proptest writes failures to files; Miri isolates the file system unless told not to.
export MIRIFLAGS="-Zmiri-disable-isolation"
# A few cases per property: Miri runs about a thousand times slower than native code, and
# PROPTEST_CASES (256 in .ci/run) overrides the tests' own settings.
export PROPTEST_CASES=8
tests=(socketio::scanner::blocks socketio::scanner::fast)
echo "==> Miri, SSE2 (the default build)"
cargo "+$toolchain" miri test -p sio-codec --lib -- "${tests[@]}"
echo "==> Miri, AVX2 (-C target-feature=+avx2)"
RUSTFLAGS="-C target-feature=+avx2" cargo "+$toolchain" miri test -p sio-codec --lib -- "${tests[@]}"

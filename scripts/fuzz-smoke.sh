#!/usr/bin/env bash
# Fuzz smoke test on the stable toolchain: builds the cargo-fuzz targets in fuzz/ and runs each
# for a bounded time, failing on any crash (a violated property or a panic). Built with debug
# assertions, so the codec's own invariants are checked too (among them: the fast JSON
# validator agrees with the scalar scanner on every text it sees).
#
#   scripts/fuzz-smoke.sh                      # every target, FUZZ_SECONDS (default 10) each
#   FUZZ_SECONDS=300 scripts/fuzz-smoke.sh sio_decode_text
#
# New inputs go to fuzz/target/corpus/<target>/ (ignored by git); the committed seeds in
# fuzz/corpus/<target>/ are only read. A crash leaves its input in fuzz/artifacts/<target>/:
# minimise it (`cargo fuzz tmin`), save it under fuzz/regressions/<target>/ and
# `cargo test -p sio-fuzz-oracles` (part of `cargo test --workspace`) replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

seconds="${FUZZ_SECONDS:-10}"
export RUSTC_BOOTSTRAP=1 # cargo-fuzz needs nightly flags (-Zsanitizer); stable works with this
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
fi

cargo fuzz build -O --debug-assertions --fuzz-dir fuzz

crashed=()
for target in "${targets[@]}"; do
    printf '\n==> fuzz %s for %ss\n' "$target" "$seconds"
    mkdir -p "fuzz/target/corpus/$target"
    if ! cargo fuzz run -O --debug-assertions --fuzz-dir fuzz "$target" \
        "$root/fuzz/target/corpus/$target" "$root/fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -dict="$root/fuzz/sio.dict" -print_final_stats=1
    then
        crashed+=("$target")
    fi
done

printf '\nfuzz smoke: %d targets run, %d crashed%s\n' "${#targets[@]}" "${#crashed[@]}" \
    "${crashed[*]:+ (${crashed[*]}; inputs in fuzz/artifacts/)}"
[ "${#crashed[@]}" -eq 0 ]

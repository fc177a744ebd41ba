#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer + UBSan; tests/fuzz) and runs each for a bounded time:
# decode_image (JPEG/PNG/BMP), the GGUF reader, the PyTorch .pt reader and the TFLite reader.
#   usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [libFuzzer options...]   (default 15 s per target)
# Seeds are made here (tests/fuzz/fuzz_seeds.cpp): small re-encodes of ../shared/images when it exists,
# synthetic images otherwise. Corpora grow in build/fuzz/corpus/TARGET across runs. Any finding (a crash,
# a sanitizer report, a leak, a timeout) is kept in build/fuzz/findings/ and makes the script exit 1.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
shift $(( $# > 0 ? 1 : 0 ))
build=build/fuzz

cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
    -DANIMEGAN_FUZZ=ON -DANIMEGAN_BUILD_TESTS=OFF -DANIMEGAN_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_image fuzz_gguf fuzz_torch fuzz_tflite fuzz_seeds

shared=""
[ -d ../shared/images ] && shared=$(cd ../shared && pwd)
[ -n "$shared" ] || echo "fuzz: ../shared is absent, seeding with synthetic images only"
rm -rf "$build/seeds"
"$build/tests/fuzz/fuzz_seeds" "$build/seeds" $shared
mkdir -p "$build/findings"

status=0
for target in image gguf torch tflite; do
    corpus=$build/corpus/$target
    log=$build/fuzz_$target.log
    mkdir -p "$corpus"
    if "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
        -artifact_prefix="$build/findings/$target-" -print_final_stats=1 "$@" "$corpus" "$build/seeds/$target" \
        >"$log" 2>&1; then
        # The last status line, e.g. "#52311 DONE cov: 1523 ft: 4012 corp: 310/180Kb exec/s: 3487 rss: 120Mb"
        echo "fuzz_$target ($seconds s): $(grep -E '^#[0-9]+' "$log" | tail -1)"
    else
        echo "fuzz_$target: FOUND A PROBLEM (input kept in $build/findings/, full log $log):"
        grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -20
        status=1
    fi
done
exit $status

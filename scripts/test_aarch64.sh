#!/usr/bin/env bash
# Cross-builds the tests for 64-bit Arm (NEON kernels) and runs them under qemu-user: the kernels suite (scalar
# and neon tables against naive loops), the engine suite, and one PyTorch golden case. The golden runs as is
# under emulation: the test's std::system() reaches the host kernel, which starts the host's /bin/sh and
# python3 (with torch) natively. Reuses build/aarch64, so only the first run pays for a full build.
#   usage: scripts/test_aarch64.sh
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
stamp() { echo "   ($((SECONDS - start)) s so far)"; }

# Google Benchmark exists for aarch64 only as the multiarch package libbenchmark-dev:arm64; without it the
# benchmark is simply not built (bench/CMakeLists.txt), so it is not installed here.
packages=(g++-aarch64-linux-gnu qemu-user doctest-dev libstb-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "== installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "== configure and build (aarch64, Release)"
bench=OFF
[ -f /usr/lib/aarch64-linux-gnu/cmake/benchmark/benchmarkConfig.cmake ] && bench=ON
cmake --no-warn-unused-cli -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
    -DCMAKE_BUILD_TYPE=Release \
    -DANIMEGAN_BUILD_BENCH=$bench >/dev/null
cmake --build build/aarch64 -j "$(nproc)" --target animegan_tests
stamp

echo "== kernels and engine suites under qemu"
ctest --test-dir build/aarch64 --output-on-failure -R '^(kernels|engine)$'
stamp

# The emulator command as ctest runs it (cmake/aarch64-linux-gnu.cmake explains the LD_LIBRARY_PATH).
emulator=(qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib)
echo "== golden 64_align_corners under qemu (PyTorch reference made on the host)"
"${emulator[@]}" build/aarch64/tests/animegan_tests --test-suite=golden \
    --test-case='generator matches PyTorch*' --subcase=64_align_corners 2>&1 |
    grep -E 'max abs diff|skipped|ERROR|FAILED|Status'  # pipefail: a failing test fails the script
stamp
echo "== aarch64 tests passed in $((SECONDS - start)) s"

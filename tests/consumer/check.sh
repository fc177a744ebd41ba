#!/usr/bin/env bash
# Installs the built project into a scratch prefix, then configures, builds and runs tests/consumer against it.
set -euo pipefail
build_dir=$1
source_dir=$2
scratch="$build_dir/test-scratch/consumer"
rm -rf "$scratch"
cmake --install "$build_dir" --prefix "$scratch/prefix" >/dev/null
cmake -S "$source_dir/tests/consumer" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/build" >/dev/null
"$scratch/build/consumer"

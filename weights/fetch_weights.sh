#!/usr/bin/env bash
# Downloads the AnimeGANv2 weights released with the PyTorch port, checks their git blob ids, and converts each
# into a GGUF file next to it. Needs internet access; says so clearly when there is none.
#   usage: weights/fetch_weights.sh [DIR] [CONVERTER]
set -euo pipefail
dir=${1:-models}
convert=${2:-build/release/tools/animegan-convert}
base="https://github.com/bryandlee/animegan2-pytorch/raw/main/weights"
# name  git blob id
releases="face_paint_512_v2 d75102f8f201ddaf8dbe6b913b1a97585b55f838
face_paint_512_v1 19c1a1da4d9580186109a2b055d91044e5127de6
celeba_distill 3b7ea61b02254980831cc3bc77af30666dbc999c
paprika 58086c9db9fc7a9e5c2876ca31b8079599352643"

[ -x "$convert" ] || { echo "fetch_weights: converter $convert not built (run scripts/test.sh or build first)" >&2; exit 1; }
mkdir -p "$dir"
while read -r name blob; do
    pt="$dir/$name.pt"
    if [ ! -f "$pt" ] || [ "$(git hash-object "$pt")" != "$blob" ]; then
        echo "fetch_weights: downloading $name.pt"
        if ! curl -fsSL --connect-timeout 15 --retry 2 -o "$pt.part" "$base/$name.pt"; then
            rm -f "$pt.part"
            echo "fetch_weights: cannot download $base/$name.pt (no internet access?)." >&2
            echo "fetch_weights: copy the .pt files into $dir/ by hand, or pass a local weight file to scripts/stylize.sh" >&2
            exit 1
        fi
        mv "$pt.part" "$pt"
        got=$(git hash-object "$pt")
        [ "$got" = "$blob" ] || { echo "fetch_weights: $pt has git blob id $got, expected $blob" >&2; exit 1; }
    fi
    "$convert" "$pt" -o "$dir/$name.gguf"
done <<< "$releases"

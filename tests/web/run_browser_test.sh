#!/usr/bin/env bash
# The page of animegan2-server in headless Chromium (Debian's chromium, driven by puppeteer-core from npm: no
# browser download). Installs puppeteer-core into the build tree (npm ci, from the lock file), converts the
# Hayao model from ../shared, then runs browser_test.mjs. Exits 77 (skipped) with a reason where chromium,
# node/npm, or ../shared's model and photos are absent.
#   usage: run_browser_test.sh SERVER_BIN CONVERT_BIN SHARED_DIR WORK_DIR [browser_test.mjs options]
#   e.g. ... --docs-screenshot docs/server_page.jpg   (the README's picture of the page)
set -euo pipefail
server=$1 convert=$2 shared=$3
mkdir -p "$4"
work=$(cd "$4" && pwd)
shift 4
here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "SKIPPED: $*"; exit 77; }

chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || skip "no $chromium (Debian package chromium)"
command -v node >/dev/null && command -v npm >/dev/null || skip "no node/npm"
tflite="$shared/models/animeganv2_hayao_256x256_integer_quant.tflite"
[ -f "$tflite" ] || skip "$tflite is absent (../shared holds the model this test converts)"
[ -d "$shared/images" ] || skip "$shared/images is absent (../shared holds the photos)"

# node_modules lives in the build tree, never in the source tree; reinstalled when the lock file changes.
node_dir="$work/node"
mkdir -p "$node_dir" "$work/models"
if ! cmp -s "$here/package-lock.json" "$node_dir/package-lock.json" || [ ! -d "$node_dir/node_modules/puppeteer-core" ]; then
    cp "$here/package.json" "$here/package-lock.json" "$node_dir/"
    (cd "$node_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) ||
        skip "npm ci could not install puppeteer-core (is the npm registry reachable?)"
fi
"$convert" "$tflite" -o "$work/models/hayao.gguf" >/dev/null
# A face detector next to the generator turns the page's face-pass switch on.
detector="$shared/models/face_detection_front.tflite"
rm -f "$work/models/face_detection_front.gguf"
[ ! -f "$detector" ] || "$convert" "$detector" -o "$work/models/face_detection_front.gguf" >/dev/null

exec node "$here/browser_test.mjs" --server "$server" --models "$work/models" --shared "$shared" \
    --work "$work" --node-modules "$node_dir" --chromium "$chromium" "$@"

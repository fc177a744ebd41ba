#!/bin/sh
# The run script of the ARM benchmark pack (scripts/arm_bench_pack.sh puts it in the tarball as run.sh). On a
# 64-bit Arm Linux board (Raspberry Pi 4/5, a phone under Termux, a cloud Arm VM), in the unpacked folder:
#
#   ./run.sh [--sizes 256,512] [--threads 1,N] [--reps 5] [--iters 1] [--kernels FILTER|none] [--min-time S]
#
# 1. End to end, as bench/compare.py runs our engine: for rep, for size, for threads, one process of
#    bin/animegan_e2e (seeded random weights in model.gguf, the same deterministic input; one warm-up forward,
#    then --iters timed ones). Prints one JSON document in the schema of `compare.py --json` (rows of medians
#    over the reps: ms, cpu_ms, first_ms, rss_mib) and keeps each run's line in e2e_runs.jsonl.
# 2. The kernel benchmark (bin/animegan_bench, Google Benchmark) on the generator's real layer shapes with the
#    NEON table (default filter /neon$): GFLOP/s and peak% (share of the FMA peak of one core, measured first)
#    on the console, everything in kernels.json.
# Only a POSIX shell and awk are needed. EMULATOR=qemu-aarch64 runs the binaries under user-mode emulation on
# another machine (the pack script's own check).
set -eu
cd "$(dirname "$0")"

sizes=256,512
threads="1,$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)"
reps=5
iters=1
kernels='/neon$'
min_time=0.2
while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) sizes=$2 ;;
        --threads) threads=$2 ;;
        --reps) reps=$2 ;;
        --iters) iters=$2 ;;
        --kernels) kernels=$2 ;;
        --min-time) min_time=$2 ;;
        *) sed -n 5p "$(basename "$0")" >&2  # the usage line above (the folder is the script's)
           exit 2 ;;
    esac
    shift 2
done
emulator=${EMULATOR:-}
sizes=$(echo "$sizes" | tr ',' ' ')
threads=$(echo "$threads" | tr ',' '\n' | awk '!seen[$0]++' | tr '\n' ' ')  # a 1-core board: "1,1"

machine=$(awk -F': *' '/^(model name|Model|Hardware)/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
[ -n "$machine" ] || machine=$(uname -m)
machine="$machine, nproc $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')"

: >e2e_runs.jsonl
rep=1
while [ "$rep" -le "$reps" ]; do
    for size in $sizes; do
        for t in $threads; do
            # shellcheck disable=SC2086 # $emulator is empty or one command word
            line=$($emulator bin/animegan_e2e --model model.gguf --size "${size}x${size}" --threads "$t" \
                --iters "$iters")
            echo "{\"rep\": $rep, \"size\": $size, \"threads\": $t, \"run\": $line}" >>e2e_runs.jsonl
            echo "rep $rep/$reps ${size}x${size} threads $t: $line" >&2
        done
    done
    rep=$((rep + 1))
done

# Medians over the reps of each run's own median, as compare.py computes them; peak RSS is the largest.
awk -v machine="$machine" -v iters="$iters" '
function field(line, key,    rest) {  # the text after "key": up to the next comma or brace (lists kept whole)
    rest = substr(line, index(line, "\"" key "\": ") + length(key) + 4)
    if (substr(rest, 1, 1) == "[") return substr(rest, 2, index(rest, "]") - 2)
    sub(/[,}].*/, "", rest)
    return rest
}
function median(list,    n, v, i, j, t) {  # of comma-separated numbers
    n = split(list, v, /, */)
    for (i = 2; i <= n; ++i)  # insertion sort: a handful of values
        for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; --j) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
{
    key = field($0, "size") " " field($0, "threads")
    sep = key in ms ? ", " : ""
    if (sep == "") order[++count] = key
    ms[key] = ms[key] sep median(field($0, "ms"))
    cpu[key] = cpu[key] sep median(field($0, "cpu_ms"))
    first[key] = first[key] sep field($0, "first_ms")
    rss = field($0, "peak_rss_bytes") / 1048576
    if (rss > peak[key]) peak[key] = rss
    n[key]++
    isa = field($0, "isa")
    gsub(/"/, "", isa)
}
END {
    printf "{\"machine\": \"%s\", \"iters\": %d, \"rows\": [\n", machine, iters
    for (i = 1; i <= count; ++i) {
        split(order[i], st, " ")
        printf " {\"engine\": \"ours\", \"size\": %d, \"threads\": %d, \"reps\": %d, \"version\": \"%s kernels\", " \
               "\"ms\": %.3f, \"cpu_ms\": %.3f, \"first_ms\": %.3f, \"network_ms\": null, \"rss_mib\": %.1f}%s\n",
               st[1], st[2], n[order[i]], isa, median(ms[order[i]]), median(cpu[order[i]]), median(first[order[i]]),
               peak[order[i]], i < count ? "," : ""
    }
    print "]}"
}' e2e_runs.jsonl | tee e2e.json

if [ "$kernels" != none ]; then
    # shellcheck disable=SC2086
    $emulator bin/animegan_bench --benchmark_filter="$kernels" --benchmark_min_time="$min_time" \
        --benchmark_out=kernels.json --benchmark_out_format=json
fi

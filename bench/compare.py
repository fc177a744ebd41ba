#!/usr/bin/python3
"""End-to-end comparison of our engine with its peers on the same weights and input.

    /usr/bin/python3 bench/compare.py --sizes 256,512 --threads 1,2 --reps 5 \
        [--baseline-build /work/baseline14/build/release] [--ncnn PATH] [--cli]

One command does everything: builds animegan_e2e and animegan-convert (and animegan2 with --cli; cmake, in
--build-dir), makes seeded random weights once with tools/torch_reference.py (model.pt, one ONNX export per size
since the export fixes the input shape) and converts model.pt to GGUF, installs the npm package onnxruntime-node
when missing, then runs the engines interleaved (for rep: for size: for threads: for engine) so that drifts of a
shared machine hit them alike. Engines: ours; ONNX Runtime; PyTorch; with --baseline-build DIR, "ours@base", the
animegan_e2e of another build of ours (say, the engine before a round of speed work: both in the same run);
with --ncnn PATH, ncnn (bench/ncnn_setup.py: a build, install or source tree the user provides; our
bench/ncnn_runner.cpp is compiled against it and the ONNX export, constant-folded by ONNX Runtime, converted with
ncnn's onnx2ncnn); with --cli, the whole command-line tool (examples/animegan2: load, decode a PNG, one forward,
encode a PNG) as one process, and the baseline's too.

Every run is its own process (bench/e2e_runner.cpp, ort_runner.mjs, torch_runner.py, ncnn_runner.cpp): one
warm-up forward (its time is reported as the first forward), then --iters timed ones whose median it reports; its
peak RSS comes from os.wait4 on that process alone. The first rep also writes each engine's output, and the
report gives every peer's largest and mean absolute difference from ours, so that the table compares the same
computation. Prints markdown tables of medians over the reps on stdout (--json FILE also writes them as JSON),
progress on stderr. An engine that is unavailable is skipped with the reason. Needs only the Python standard
library itself.
"""
import argparse
import array
import importlib.util
import json
import math
import os
import platform
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import ncnn_setup

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORT_PACKAGE = "onnxruntime-node@1.30.0"  # pinned so that reruns compare against the same ONNX Runtime
FORWARD_ENGINES = ("ours", "base", "ort", "torch", "ncnn")
CLI_ENGINES = ("cli", "cli_base")
ENGINES = FORWARD_ENGINES + CLI_ENGINES
NAMES = {"ours": "ours", "base": "ours@base", "ort": "ORT", "torch": "PyTorch", "ncnn": "ncnn", "cli": "CLI",
         "cli_base": "CLI@base"}
DUMPS = ("ours", "ort", "torch", "ncnn")  # the runners that write their output with --output
# Outputs are tanh's, in [-1, 1]. Float32 engines that sum in different orders (Winograd, GEMM blockings) differ
# from ours at 512x512 by at most 3e-6 (PyTorch), 1.5e-4 (ncnn) and 4.4e-4 (ONNX Runtime, mean 1.4e-4: its export
# turns GroupNorm into InstanceNormalization over one channel of C*H*W values, whose float32 statistics drift
# more as the image grows, up to ~0.2% of mean |y| at 1024x1024). A wrong weight file, layout, padding or input
# is off by far more than these bounds.
MAX_ABS_TOLERANCE, MEAN_ABS_TOLERANCE = 1e-2, 1e-3


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def size_name(size):
    return f"{size}x{size}"


def call(cmd, cwd=None):
    """Runs cmd, returns None on success or the last line of its output as the reason it failed."""
    log("$", " ".join(cmd))
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode == 0:
        return None
    lines = r.stdout.strip().splitlines()
    reason = f"`{os.path.basename(cmd[0])}` exited {r.returncode}: {lines[-1] if lines else ''}"
    log(reason)
    return reason


def build(args):
    targets = ["animegan_e2e", "animegan-convert"] + (["animegan2"] if args.cli else [])
    reason = call(["cmake", "-S", ROOT, "-B", args.build_dir, "-DCMAKE_BUILD_TYPE=Release"])
    reason = reason or call(["cmake", "--build", args.build_dir, "-j", str(os.cpu_count()), "--target", *targets])
    if reason:
        log("build failed: using the binaries already there, if any")


def onnx_path(args, size):
    return os.path.join(args.dir, f"model_{size_name(size)}.onnx")


def make_weights(args):
    """model.pt, model.gguf and model_HxW.onnx per size in args.dir, all from torch_reference.py's seed 0."""
    os.makedirs(args.dir, exist_ok=True)
    pt = os.path.join(args.dir, "model.pt")
    for size in args.sizes:
        onnx = onnx_path(args, size)
        if not (os.path.exists(onnx) and os.path.exists(pt)):
            # Also rewrites model.pt: the same weights every time, as the seed is the same.
            call([sys.executable, os.path.join(ROOT, "tools", "torch_reference.py"), "--out", args.dir,
                  "--height", str(size), "--width", str(size), "--export-onnx", onnx,
                  "--threads", str(os.cpu_count())])
    gguf = os.path.join(args.dir, "model.gguf")
    converter = os.path.join(args.build_dir, "tools", "animegan-convert")
    if os.path.exists(pt) and os.path.exists(converter) and (
            not os.path.exists(gguf) or os.path.getmtime(gguf) < os.path.getmtime(pt)):
        call([converter, pt, "-o", gguf])


def write_png(path, size):
    """The runners' input formula as an 8-bit RGB PNG (standard library only), the CLI's input."""
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter: none
        for x in range(size):
            for c in range(3):
                v = 0.9 * math.sin(0.031 * x + 0.017 * y + 1.7 * c)
                rows.append(round((v + 1) * 127.5))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(bytes(rows), 6)) + chunk(b"IEND", b""))


def install_ort(ort_dir):
    """onnxruntime-node from npm; its prebuilt CPU binding and libonnxruntime ship inside the package. Install
    scripts are skipped: the only one downloads the CUDA/TensorRT providers from NuGet, not needed on the CPU."""
    arch = {"x86_64": "x64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    package = os.path.join(ort_dir, "node_modules", "onnxruntime-node")
    if not os.path.isdir(package):
        if not shutil.which("npm"):
            return "npm not found"
        os.makedirs(ort_dir, exist_ok=True)
        with open(os.path.join(ort_dir, "package.json"), "w") as f:
            f.write('{"private": true}\n')  # keeps npm from looking for a project further up
        reason = call(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", ORT_PACKAGE], cwd=ort_dir)
        if reason:
            return reason
    bin_dir = os.path.join(package, "bin")
    for napi in sorted(os.listdir(bin_dir)) if os.path.isdir(bin_dir) else []:
        if os.path.exists(os.path.join(bin_dir, napi, "linux", arch, "onnxruntime_binding.node")):
            return None
    return f"onnxruntime-node has no prebuilt binding for linux/{arch}"


def ncnn_commands(args, common):
    ncnn = ncnn_setup.find(args.ncnn, call)
    if isinstance(ncnn, str):
        return ncnn
    onnx_missing = [s for s in args.sizes if not os.path.exists(onnx_path(args, s))]
    ort_dir = os.path.join(args.build_dir, "ort")
    reason = (f"no ONNX export for {onnx_missing}" if onnx_missing else
              "node not found (ONNX Runtime folds the export for onnx2ncnn)" if not shutil.which("node") else
              install_ort(ort_dir))
    if reason:
        return reason
    here = os.path.dirname(os.path.abspath(__file__))

    def fold(onnx, folded):
        return call(["node", os.path.join(here, "ort_fold.mjs"), "--ort", ort_dir, "--model", onnx, "--out", folded])
    prepared = ncnn_setup.prepare(ncnn, os.path.join(args.build_dir, "ncnn"),
                                  {s: onnx_path(args, s) for s in args.sizes}, fold, call)
    if isinstance(prepared, str):
        return prepared
    runner, models = prepared
    args.ncnn_describe = ncnn.describe
    return lambda s, t: [runner, "--param", models[s][0], "--bin", models[s][1]] + common(s, t)


def engine_commands(args):
    """Per engine, a function (size, threads) -> command line, or the reason the engine is unavailable."""
    d, common = args.dir, lambda size, threads: ["--size", size_name(size), "--threads", str(threads),
                                                  "--iters", str(args.iters)]
    gguf, pt = os.path.join(d, "model.gguf"), os.path.join(d, "model.pt")
    here = os.path.dirname(os.path.abspath(__file__))

    def ours(build_dir, program):
        """The end-to-end runner (bench/animegan_e2e) or the CLI (examples/animegan2) of the build in build_dir."""
        path = os.path.join(build_dir, program)
        if not os.path.exists(path):
            return "missing " + path
        if not os.path.exists(gguf):
            return "missing " + gguf
        if program.startswith("bench"):
            return lambda s, t: [path, "--model", gguf] + common(s, t)
        return lambda s, t: [path, "-m", gguf, "-i", os.path.join(d, f"input_{size_name(s)}.png"),
                             "-o", os.path.join(d, f"cli_{size_name(s)}.png"), "--threads", str(t)]

    def ort():
        ort_dir = os.path.join(args.build_dir, "ort")
        onnx_missing = [s for s in args.sizes if not os.path.exists(onnx_path(args, s))]
        reason = ("node not found" if not shutil.which("node") else
                  f"no ONNX export for {onnx_missing}" if onnx_missing else install_ort(ort_dir))
        return reason or (lambda s, t: ["node", os.path.join(here, "ort_runner.mjs"), "--ort", ort_dir,
                                        "--model", onnx_path(args, s)] + common(s, t))

    def torch():
        return ("python module torch not found" if not importlib.util.find_spec("torch") else
                "missing " + pt if not os.path.exists(pt) else
                lambda s, t: [sys.executable, os.path.join(here, "torch_runner.py"), "--model", pt] + common(s, t))

    makers = {
        "ours": lambda: ours(args.build_dir, "bench/animegan_e2e"),
        "base": lambda: ours(args.baseline_build, "bench/animegan_e2e"),
        "cli": lambda: ours(args.build_dir, "examples/animegan2"),
        "cli_base": lambda: ours(args.baseline_build, "examples/animegan2"),
        "ort": ort,
        "torch": torch,
        "ncnn": lambda: ncnn_commands(args, common),
    }
    return {e: makers[e]() for e in ENGINES if e in args.engines}


def run_child(cmd):
    """Runs one process; returns (its stdout, wall ms, CPU ms, peak RSS in bytes) or raises with the reason."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as err, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True) as p:
        out = p.stdout.read()
        _, status, usage = os.wait4(p.pid, 0)
        wall_ms = (time.monotonic() - t0) * 1000
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if p.returncode != 0:
            err.seek(0)
            lines = err.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"exit {p.returncode}: {lines[-1] if lines else ''}")
    return out, wall_ms, (usage.ru_utime + usage.ru_stime) * 1000, usage.ru_maxrss * 1024  # KiB on Linux


def run_engine(engine, cmd, dump):
    """One run: the runner's JSON line (ms, cpu_ms, first_ms, ... as medians) plus "rss"; for the CLI, the
    whole process's wall and CPU time and the forward time its "network" line prints."""
    if engine in CLI_ENGINES:
        out, wall_ms, cpu_ms, rss = run_child(cmd)
        network = re.search(r"^network\s+([0-9.]+) ms", out, re.M)
        return {"ms": wall_ms, "cpu_ms": cpu_ms, "network_ms": float(network.group(1)) if network else None,
                "rss": rss, "isa": "examples/animegan2"}
    out, _, _, rss = run_child(cmd + (["--output", dump] if dump else []))
    line = json.loads(out.strip().splitlines()[-1])
    line["ms"], line["cpu_ms"] = statistics.median(line["ms"]), statistics.median(line["cpu_ms"])
    line["rss"] = rss
    return line


def machine():
    model = platform.machine()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, nproc {len(os.sched_getaffinity(0))}"


def commit_of(build_dir):
    """The source commit of a build of ours (from its CMakeCache.txt), for the report."""
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            source = re.search(r"^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$", f.read(), re.M).group(1)
        r = subprocess.run(["git", "-C", source, "describe", "--always", "--dirty"], capture_output=True, text=True)
        return r.stdout.strip() or "?"
    except (OSError, AttributeError):
        return "?"


def fmt(value, digits=0):
    return "—" if value is None else f"{value:.{digits}f}"


def median_of(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def table(args, results, columns, cells):
    """A markdown table with one row per (size, threads); cells(runs by engine) gives the row's other cells."""
    print("| size | threads | " + " | ".join(columns) + " |")
    print("|" + "---|" * (len(columns) + 2))
    for size in args.sizes:
        for threads in args.threads:
            runs = {e: results.get((size, threads, e), []) for e in ENGINES}
            print(f"| {size_name(size)} | {threads} | " + " | ".join(cells(runs)) + " |")
    print()


def times(engines, key):
    """Cells of median times per engine, then ours/peer for every other engine, for JSON field `key`."""
    peers = [e for e in engines if e != "ours"]

    def cells(runs):
        ms = {e: median_of(runs[e], key) for e in engines}
        ratios = [ms["ours"] / ms[e] if ms.get("ours") and ms[e] else None for e in peers]
        return [fmt(ms[e]) for e in engines] + [fmt(r, 2) for r in ratios]
    return [f"{NAMES[e]} ms" for e in engines] + [f"ours/{NAMES[e]}" for e in peers], cells


def memory(engines):
    def cells(runs):
        mib = 1 / (1 << 20)
        act = max(r["peak_activation_bytes"] for r in runs["ours"]) * mib if runs["ours"] else None
        return [fmt(max(r["rss"] for r in runs[e]) * mib if runs[e] else None) for e in engines] + [fmt(act)]
    return [f"{NAMES[e]} RSS MiB" for e in engines] + ["ours act. MiB"], cells


def cli_table(engines):
    """The whole CLI process next to the forward alone: what a CLI user waits for beyond one warm forward."""
    def cells(runs):
        warm = median_of(runs["ours"], "ms")
        row = []
        for e in engines:
            ms = median_of(runs[e], "ms")
            row += [fmt(ms), fmt(median_of(runs[e], "network_ms")),
                    fmt(max(r["rss"] for r in runs[e]) / (1 << 20) if runs[e] else None)]
        cli = median_of(runs["cli"], "ms") if "cli" in engines else None
        return row + [fmt(warm), fmt(cli / warm if cli and warm else None, 2)]
    columns = []
    for e in engines:
        columns += [f"{NAMES[e]} process ms", f"{NAMES[e]} network ms", f"{NAMES[e]} RSS MiB"]
    return columns + ["ours warm forward ms", "CLI / warm forward"], cells


def read_f32(path):
    values = array.array("f")
    with open(path, "rb") as f:
        values.frombytes(f.read())
    return values


def agreement(args, results, dumps):
    """Per (size, threads), every peer's output against ours, element by element; then the mean |y| check that
    also covers engines that cannot write their output (an older build of ours)."""
    verdicts = []
    for (size, threads, engine), path in sorted(dumps.items()):
        ours = dumps.get((size, threads, "ours"))
        if engine == "ours" or not ours or not os.path.exists(path):
            continue
        a, b = read_f32(ours), read_f32(path)
        if len(a) != len(b):
            verdicts.append(f"- {size_name(size)} threads {threads}: {NAMES[engine]} output has {len(b)} values, "
                            f"ours {len(a)}: DIFFER")
            continue
        diffs = [abs(x - y) for x, y in zip(a, b)]
        worst, mean = max(diffs), sum(diffs) / len(diffs)
        ok = worst <= MAX_ABS_TOLERANCE and mean <= MEAN_ABS_TOLERANCE
        verdicts.append(f"- {size_name(size)} threads {threads}: {NAMES[engine]} vs ours: max |Δ| {worst:.2e}, "
                        f"mean |Δ| {mean:.2e}: {'agree' if ok else 'DIFFER'}")
    for size in args.sizes:
        means = {e: x[0]["mean_abs"] for t in args.threads for e in FORWARD_ENGINES
                 if (x := results.get((size, t, e)))}
        if len(means) > 1:
            spread = (max(means.values()) - min(means.values())) / max(means.values())
            verdict = "agree" if spread < 1e-2 else "DIFFER"
            verdicts.append(f"- {size_name(size)}: mean |y| {verdict} (spread {100 * spread:.3f}%): " +
                            ", ".join(f"{NAMES[e]} {v:.6f}" for e, v in means.items()))
    return verdicts


def report(args, results, reasons, versions, verdicts, load_before):
    present = [e for e in ENGINES if any(k[2] == e for k in results)]
    forward = [e for e in present if e in FORWARD_ENGINES]
    print("## AnimeGANv2 end to end: " + " vs ".join(NAMES[e] for e in forward) + "\n")
    print(f"- machine: {machine()}; load average {load_before} before, "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} after")
    print("- engines: " + "; ".join(f"{NAMES[e]}: {versions[e]}" for e in present if e in versions))
    print(f"- each cell: median over {args.reps} reps, each rep one process (1 warm-up forward, then {args.iters} "
          "timed, their median); order interleaved (rep, size, threads, engine); ratio < 1: ours faster\n")
    print("Wall time of one warm forward:\n")
    table(args, results, *times(forward, "ms"))
    print("Wall time of the first forward in a process (the warm-up):\n")
    table(args, results, *times(forward, "first_ms"))
    print("CPU time of one warm forward (the process's, all threads; less inflated than wall time on a busy "
          "machine, but counts threads that spin while waiting):\n")
    table(args, results, *times(forward, "cpu_ms"))
    print("Peak resident memory of the process (runtime included: Python + libtorch, node + V8) and our engine's "
          "peak activation buffers:\n")
    table(args, results, *memory(forward))
    cli = [e for e in present if e in CLI_ENGINES]
    if cli:
        print("The whole command-line tool as one process (load the model, decode a PNG, one forward, encode a "
              "PNG), its own \"network\" line (the forward inside it) and its peak RSS, next to one warm forward "
              "of animegan_e2e:\n")
        table(args, results, *cli_table(cli))
    print(f"Outputs against ours (first rep; agree: max |Δ| <= {MAX_ABS_TOLERANCE:g} and mean |Δ| <= "
          f"{MEAN_ABS_TOLERANCE:g}, outputs in [-1, 1]):\n")
    for line in verdicts:
        print(line)
    for what, reason in reasons.items():
        print(f"- skipped {what}: {reason}")


def json_rows(args, results, versions):
    rows = []
    for (size, threads, engine), runs in sorted(results.items(), key=lambda kv: (kv[0][0], kv[0][1],
                                                                                 ENGINES.index(kv[0][2]))):
        row = {"engine": NAMES[engine], "size": size, "threads": threads, "reps": len(runs),
               "version": versions.get(engine)}
        for key in ("ms", "cpu_ms", "first_ms", "network_ms"):
            row[key] = median_of(runs, key)
        row["rss_mib"] = max(r["rss"] for r in runs) / (1 << 20)
        rows.append(row)
    return {"machine": machine(), "iters": args.iters, "rows": rows}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="256,512,1024", help="square input sides, comma-separated")
    p.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--iters", type=int, default=1, help="timed forwards per process, after one warm-up")
    p.add_argument("--engines", help="comma-separated subset of " + ",".join(ENGINES) + " (default: ours, ort, "
                   "torch, plus base with --baseline-build, ncnn with --ncnn, cli (and cli_base) with --cli)")
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    p.add_argument("--baseline-build", metavar="DIR", help="another build of ours, run as engine ours@base")
    p.add_argument("--ncnn", metavar="PATH", help="an ncnn build, install prefix or source tree (ncnn_setup.py)")
    p.add_argument("--cli", action="store_true", help="also time the whole CLI process (examples/animegan2)")
    p.add_argument("--dir", help="scratch dir for weights (default BUILD_DIR/compare)")
    p.add_argument("--json", metavar="FILE", help="also write the medians as JSON")
    args = p.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.threads = [int(t) for t in args.threads.split(",")]
    default = ["ours", "ort", "torch"] + (["base"] if args.baseline_build else []) + (["ncnn"] if args.ncnn else [])
    default += (["cli"] + (["cli_base"] if args.baseline_build else [])) if args.cli else []
    args.engines = args.engines.split(",") if args.engines else default
    if not args.baseline_build and {"base", "cli_base"} & set(args.engines):
        p.error("engines base and cli_base need --baseline-build")
    if not args.ncnn and "ncnn" in args.engines:
        p.error("engine ncnn needs --ncnn")
    args.cli = args.cli or "cli" in args.engines
    args.build_dir = os.path.abspath(args.build_dir)
    args.dir = os.path.abspath(args.dir or os.path.join(args.build_dir, "compare"))
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())

    build(args)
    make_weights(args)
    if args.cli:
        for size in args.sizes:
            png = os.path.join(args.dir, f"input_{size_name(size)}.png")
            if not os.path.exists(png):
                write_png(png, size)
    commands, reasons = {}, {}
    for engine, command in engine_commands(args).items():
        if callable(command):
            commands[engine] = command
        else:
            reasons[NAMES[engine]] = command
            log(f"skipping {NAMES[engine]}: {command}")

    results, dumps, versions = {}, {}, {}
    labels = {e: commit_of(args.build_dir if e in ("ours", "cli") else args.baseline_build)
              for e in ("ours", "base", "cli", "cli_base") if e in commands}
    labels["ncnn"] = getattr(args, "ncnn_describe", None)
    start = time.monotonic()
    for rep in range(args.reps):
        for size in args.sizes:
            for threads in args.threads:
                for engine, command in commands.items():
                    what = f"{NAMES[engine]} {size_name(size)} threads {threads}"
                    if what in reasons:
                        continue
                    dump = None
                    if rep == 0 and engine in DUMPS:
                        dump = dumps[size, threads, engine] = os.path.join(
                            args.dir, f"output_{engine}_{size_name(size)}_{threads}.f32")
                    try:
                        line = run_engine(engine, command(size, threads), dump)
                    except (RuntimeError, ValueError, IndexError, KeyError) as e:
                        reasons[what] = str(e)
                        log(f"{what} failed: {e}")
                        continue
                    results.setdefault((size, threads, engine), []).append(line)
                    if engine not in versions:
                        kind = line["isa"] + (" kernels" if engine in ("ours", "base") else "")
                        versions[engine] = ", ".join(x for x in (labels.get(engine), kind) if x)
                    log(f"[{time.monotonic() - start:6.0f} s] rep {rep + 1}/{args.reps} {what}: "
                        f"{line['ms']:.0f} ms (CPU {line['cpu_ms']:.0f} ms), {line['rss'] / (1 << 20):.0f} MiB")
    verdicts = agreement(args, results, dumps)
    report(args, results, reasons, versions, verdicts, load_before)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(json_rows(args, results, versions), f, indent=1)


if __name__ == "__main__":
    main()

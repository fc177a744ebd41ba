#!/usr/bin/python3
"""End-to-end comparison of our engine with ONNX Runtime and PyTorch on the same weights and input.

    /usr/bin/python3 bench/compare.py --sizes 256,512 --threads 1,2 --reps 3

One command does everything: builds animegan_e2e and animegan-convert (cmake, in --build-dir), makes seeded
random weights once with tools/torch_reference.py (model.pt, one ONNX export per size since the export fixes the
input shape) and converts model.pt to GGUF, installs the npm package onnxruntime-node when missing, then runs
the three engines interleaved (for rep: for size: for threads: for engine) so that drifts of a shared machine
hit them alike. Every run is its own process (bench/e2e_runner.cpp, ort_runner.mjs, torch_runner.py): one
warm-up forward, then --iters timed ones whose median it reports; its peak RSS comes from os.wait4 on that
process alone. Prints a markdown table of medians over the reps on stdout, progress on stderr. An engine that
is unavailable is skipped with the reason. Needs only the Python standard library itself.
"""
import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORT_PACKAGE = "onnxruntime-node@1.30.0"  # pinned so that reruns compare against the same ONNX Runtime
ENGINES = ("ours", "ort", "torch")
NAMES = {"ours": "ours", "ort": "ORT", "torch": "PyTorch"}


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


def build(build_dir):
    reason = call(["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release"])
    reason = reason or call(["cmake", "--build", build_dir, "-j", str(os.cpu_count()),
                             "--target", "animegan_e2e", "animegan-convert"])
    if reason:
        log("build failed: using the binaries already there, if any")


def make_weights(args):
    """model.pt, model.gguf and model_HxW.onnx per size in args.dir, all from torch_reference.py's seed 0."""
    os.makedirs(args.dir, exist_ok=True)
    pt = os.path.join(args.dir, "model.pt")
    for size in args.sizes:
        onnx = os.path.join(args.dir, f"model_{size_name(size)}.onnx")
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


def engine_commands(args):
    """Per engine, a function (size, threads) -> command line, or the reason the engine is unavailable."""
    d, common = args.dir, lambda size, threads: ["--size", size_name(size), "--threads", str(threads),
                                                  "--iters", str(args.iters)]
    onnx_missing = [s for s in args.sizes if not os.path.exists(os.path.join(d, f"model_{size_name(s)}.onnx"))]
    runner = os.path.join(args.build_dir, "bench", "animegan_e2e")
    gguf, pt = os.path.join(d, "model.gguf"), os.path.join(d, "model.pt")
    ort_dir = os.path.join(args.build_dir, "ort")
    here = os.path.dirname(os.path.abspath(__file__))
    commands = {}
    if "ours" in args.engines:
        commands["ours"] = ("missing " + runner if not os.path.exists(runner) else
                            "missing " + gguf if not os.path.exists(gguf) else
                            lambda s, t: [runner, "--model", gguf] + common(s, t))
    if "ort" in args.engines:
        reason = ("node not found" if not shutil.which("node") else
                  f"no ONNX export for {onnx_missing}" if onnx_missing else install_ort(ort_dir))
        commands["ort"] = reason or (lambda s, t: ["node", os.path.join(here, "ort_runner.mjs"), "--ort", ort_dir,
                                                   "--model", os.path.join(d, f"model_{size_name(s)}.onnx")]
                                     + common(s, t))
    if "torch" in args.engines:
        commands["torch"] = ("python module torch not found" if not importlib.util.find_spec("torch") else
                             "missing " + pt if not os.path.exists(pt) else
                             lambda s, t: [sys.executable, os.path.join(here, "torch_runner.py"), "--model", pt]
                             + common(s, t))
    return commands


def run_child(cmd):
    """Runs one engine process; returns (its JSON line, peak RSS in bytes) or raises with the reason."""
    with tempfile.TemporaryFile() as err, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True) as p:
        out = p.stdout.read()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if p.returncode != 0:
            err.seek(0)
            lines = err.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"exit {p.returncode}: {lines[-1] if lines else ''}")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def machine():
    model = platform.machine()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, nproc {len(os.sched_getaffinity(0))}"


def fmt(value, digits=0):
    return "—" if value is None else f"{value:.{digits}f}"


def table(args, results, columns, cells):
    """A markdown table with one row per (size, threads); cells(runs by engine) gives the row's other cells."""
    print("| size | threads | " + " | ".join(columns) + " |")
    print("|" + "---|" * (len(columns) + 2))
    for size in args.sizes:
        for threads in args.threads:
            runs = {e: results.get((size, threads, e), []) for e in ENGINES}
            print(f"| {size_name(size)} | {threads} | " + " | ".join(cells(runs)) + " |")
    print()


def times(key):
    """Cells of median times per engine and ours/ORT, ours/PyTorch, for JSON field `key` of the runs."""
    def cells(runs):
        ms = {e: statistics.median(r[key] for r in runs[e]) if runs[e] else None for e in ENGINES}
        ratios = [ms["ours"] / ms[e] if ms["ours"] and ms[e] else None for e in ("ort", "torch")]
        return [fmt(ms[e]) for e in ENGINES] + [fmt(r, 2) for r in ratios]
    return [f"{NAMES[e]} ms" for e in ENGINES] + ["ours/ORT", "ours/PyTorch"], cells


def memory(runs):
    mib = 1 / (1 << 20)
    act = max(r["peak_activation_bytes"] for r in runs["ours"]) * mib if runs["ours"] else None
    return [fmt(max(r["rss"] for r in runs[e]) * mib if runs[e] else None) for e in ENGINES] + [fmt(act)]


def report(args, results, reasons, versions, load_before):
    print("## AnimeGANv2 end to end: ours vs ONNX Runtime vs PyTorch\n")
    print(f"- machine: {machine()}; load average {load_before} before, "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} after")
    print("- engines: " + "; ".join(f"{NAMES[e]}: {versions[e]}" for e in ENGINES if e in versions))
    print(f"- each cell: median over {args.reps} reps, each rep one process (1 warm-up forward, then {args.iters} "
          "timed, their median); order interleaved (rep, size, threads, engine); ratio < 1: ours faster\n")
    print("Wall time of one forward:\n")
    table(args, results, *times("ms"))
    print("CPU time of one forward (the process's, all threads; less inflated than wall time on a busy machine, "
          "but counts threads that spin while waiting):\n")
    table(args, results, *times("cpu_ms"))
    print("Peak resident memory of the process (runtime included: Python + libtorch, node + V8) and our engine's "
          "peak activation buffers:\n")
    table(args, results, [f"{NAMES[e]} RSS MiB" for e in ENGINES] + ["ours act. MiB"], memory)
    # The same input and weights must give the same output everywhere; a wrong weight file or input would be off
    # by far more than 1%. ONNX Runtime drifts by up to ~0.2% at 1024x1024: the export turns GroupNorm into
    # InstanceNormalization over one channel of C*H*W values, whose float32 statistics lose precision.
    for size in args.sizes:
        means = {e: x[0]["mean_abs"] for t in args.threads for e in ENGINES
                 if (x := results.get((size, t, e)))}
        if len(means) > 1:
            spread = (max(means.values()) - min(means.values())) / max(means.values())
            verdict = "agree" if spread < 1e-2 else "DIFFER"
            print(f"- {size_name(size)}: outputs {verdict} (spread {100 * spread:.3f}%), mean |y| " +
                  ", ".join(f"{NAMES[e]} {v:.6f}" for e, v in means.items()))
    for what, reason in reasons.items():
        print(f"- skipped {what}: {reason}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="256,512,1024", help="square input sides, comma-separated")
    p.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--iters", type=int, default=1, help="timed forwards per process, after one warm-up")
    p.add_argument("--engines", default=",".join(ENGINES))
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    p.add_argument("--dir", help="scratch dir for weights (default BUILD_DIR/compare)")
    args = p.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.threads = [int(t) for t in args.threads.split(",")]
    args.engines = args.engines.split(",")
    args.dir = args.dir or os.path.join(args.build_dir, "compare")
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())

    build(args.build_dir)
    make_weights(args)
    commands, reasons = {}, {}
    for engine, command in engine_commands(args).items():
        if callable(command):
            commands[engine] = command
        else:
            reasons[NAMES[engine]] = command
            log(f"skipping {NAMES[engine]}: {command}")

    results, versions = {}, {}
    start = time.monotonic()
    for rep in range(args.reps):
        for size in args.sizes:
            for threads in args.threads:
                for engine, command in commands.items():
                    what = f"{NAMES[engine]} {size_name(size)} threads {threads}"
                    if what in reasons:
                        continue
                    try:
                        line, rss = run_child(command(size, threads))
                    except (RuntimeError, ValueError, IndexError) as e:
                        reasons[what] = str(e)
                        log(f"{what} failed: {e}")
                        continue
                    line["ms"], line["cpu_ms"] = statistics.median(line["ms"]), statistics.median(line["cpu_ms"])
                    line["rss"] = rss
                    results.setdefault((size, threads, engine), []).append(line)
                    versions[engine] = line["isa"] + (" kernels" if engine == "ours" else "")
                    log(f"[{time.monotonic() - start:6.0f} s] rep {rep + 1}/{args.reps} {what}: "
                        f"{line['ms']:.0f} ms (CPU {line['cpu_ms']:.0f} ms), {rss / (1 << 20):.0f} MiB")
    report(args, results, reasons, versions, load_before)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Video throughput: frames per second of the whole pipeline against the network alone and the CLI per frame.

    /usr/bin/python3 bench/video_throughput.py --model hayao.gguf --sizes 640x360,1280x720 --threads 1,2 --frames 6

For each size it makes a clip with the ffmpeg command line (testsrc2, H.264, with AAC sound) and its frames as
PNG files, then runs, interleaved (for rep: for size: for threads: for method) so that the drifts of a shared
machine hit them alike:

- pipeline: `animegan2 -i clip.mp4 -o out.mp4` (decode, stabilize, stylize, encode, mux on three threads);
  frames / the wall time it reports (model loading excluded, everything else included);
- stylize only: bench/animegan_e2e, the network on a tensor already in memory (no decode, no conversion, no
  stabilizer, no encode), 1 / the median forward;
- CLI per frame: `animegan2 -i frame.png -o out.png`, one process per frame as a frame-by-frame script would
  run it (model load, PNG decode and encode included), frames / total wall time.

Prints a markdown table of medians over --reps on stdout, progress on stderr. Needs the build (--build-dir)
with FFmpeg's libraries, and the ffmpeg command line.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHODS = ("pipeline", "stylize", "per_frame")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def run(cmd, cpu=None):
    """Runs cmd and returns its stdout; adds the process's CPU seconds (all threads) to cpu[0] if given."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0), err.seek(0)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {err.read().decode()[-300:]}")
        if cpu is not None:
            cpu[0] += usage.ru_utime + usage.ru_stime
        return out.read().decode()


def make_clip(work, size, frames):
    w, h = size
    clip = os.path.join(work, f"clip_{w}x{h}.mp4")
    run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={w}x{h}:rate=30000/1001",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-frames:v", str(frames), "-shortest",
         "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", clip])
    frame_dir = os.path.join(work, f"frames_{w}x{h}")
    os.makedirs(frame_dir, exist_ok=True)
    run(["ffmpeg", "-v", "error", "-y", "-i", clip, os.path.join(frame_dir, "f%03d.png")])
    return clip, sorted(os.path.join(frame_dir, f) for f in os.listdir(frame_dir) if f.endswith(".png"))


# Each returns (frames per wall second, frames per CPU second of all its threads).

def pipeline_fps(args, clip, threads, work):
    cpu = [0.0]
    out = run([args.cli, "-m", args.model, "-i", clip, "-o", os.path.join(work, "out.mp4"), "--max-side", "0",
               "--threads", str(threads)], cpu)
    m = re.search(r"output .*: (\d+) frames.*\ntotal\s+([\d.]+) s", out, re.S)
    if not m:
        raise RuntimeError("no 'total' line in: " + out)
    return int(m.group(1)) / float(m.group(2)), int(m.group(1)) / cpu[0]


def stylize_fps(args, size, threads, frames):
    w, h = size
    out = run([args.e2e, "--model", args.model, "--size", f"{h}x{w}", "--threads", str(threads),
               "--iters", str(frames)])
    line = json.loads(out.strip().splitlines()[-1])
    return 1000.0 / statistics.median(line["ms"]), 1000.0 / statistics.median(line["cpu_ms"])


def per_frame_fps(args, pngs, threads, work):
    start, cpu = time.monotonic(), [0.0]
    for png in pngs:
        run([args.cli, "-m", args.model, "-i", png, "-o", os.path.join(work, "out.png"), "--max-side", "0",
             "--threads", str(threads), "-q"], cpu)
    return len(pngs) / (time.monotonic() - start), len(pngs) / cpu[0]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="converted generator (.gguf); speed does not depend on weights")
    p.add_argument("--sizes", default="640x360,1280x720")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--frames", type=int, default=6, help="frames per clip (and timed forwards for stylize only)")
    p.add_argument("--reps", type=int, default=1)
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build", "release"))
    args = p.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    threads_list = [int(t) for t in args.threads.split(",")]
    methods = args.methods.split(",")
    args.cli = os.path.join(args.build_dir, "examples", "animegan2")
    args.e2e = os.path.join(args.build_dir, "bench", "animegan_e2e")
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())

    results = {}
    with tempfile.TemporaryDirectory() as work:
        clips = {size: make_clip(work, size, args.frames) for size in sizes}
        for rep in range(args.reps):
            for size in sizes:
                clip, pngs = clips[size]
                for threads in threads_list:
                    for method in methods:
                        fps = (pipeline_fps(args, clip, threads, work) if method == "pipeline" else
                               stylize_fps(args, size, threads, args.frames) if method == "stylize" else
                               per_frame_fps(args, pngs, threads, work))
                        results.setdefault((size, threads, method), []).append(fps)
                        log(f"rep {rep + 1} {size[0]}x{size[1]} threads {threads} {method}: {fps[0]:.3f} fps, "
                            f"{fps[1]:.3f} frames per CPU second")

    print(f"Median of {args.reps} rep(s) of {args.frames} frames; load average {load_before} before, "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} after\n")
    for index, what in ((0, "Frames per second (wall clock)"),
                        (1, "Frames per CPU second (all threads; a busy machine inflates it less)")):
        print(what + ":\n")
        print("| size | threads | pipeline | stylize only | CLI per frame | pipeline / stylize only |")
        print("|---|---|---|---|---|---|")
        for size in sizes:
            for threads in threads_list:
                med = {m: statistics.median(r[index] for r in results[(size, threads, m)])
                       if (size, threads, m) in results else None for m in METHODS}
                cell = lambda v: "—" if v is None else f"{v:.3f}"
                ratio = med["pipeline"] / med["stylize"] if med["pipeline"] and med["stylize"] else None
                print(f"| {size[0]}x{size[1]} | {threads} | {cell(med['pipeline'])} | {cell(med['stylize'])} | "
                      f"{cell(med['per_frame'])} | {'—' if ratio is None else f'{ratio:.2f}'} |")
        print()


if __name__ == "__main__":
    main()

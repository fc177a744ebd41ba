#!/usr/bin/python3
"""The face pass against the scene pass alone, on one photo: how much do the faces add?

    /usr/bin/python3 bench/face_pass.py -m hayao.gguf --detector mtcnn.gguf -i crowd_party.jpg --reps 5

Runs build/release/examples/animegan2 on the photo at its full size (--max-side 0), alternately without and
with --face (so that drifts of a shared machine hit both alike), each run its own process, and prints the
medians: the scene pass alone (the network line), and the face pass's parts as it reports them (scene,
detection, stylizing the faces, blending) with their sum, and the ratio of the sum to the scene pass alone.
Python standard library only.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return result.stdout


def number(pattern, text):
    match = re.search(pattern, text, re.MULTILINE)
    if not match:
        raise SystemExit(f"no '{pattern}' in the output:\n{text}")
    return float(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-m", "--model", required=True)
    parser.add_argument("--detector", required=True)
    parser.add_argument("-i", "--input", required=True)
    parser.add_argument("--face-model", help="generator for the faces (default: the scene model)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--binary", default=os.path.join(ROOT, "build/release/examples/animegan2"))
    args = parser.parse_args()
    output = os.path.join("/tmp", f"face_pass_bench_{os.getpid()}.png")
    base = [args.binary, "-m", args.model, "-i", args.input, "-o", output, "--max-side", "0"]
    if args.threads:
        base += ["--threads", str(args.threads)]
    face = base + ["--face", "--detector", args.detector] + (["--face-model", args.face_model] if args.face_model else [])
    times = {k: [] for k in ("alone", "scene", "detect", "stylize", "blend", "sum")}
    faces = ""
    for rep in range(args.reps):
        alone = run(base)
        times["alone"].append(number(r"^network\s+([\d.]+) ms", alone))
        text = run(face)
        parts = {
            "scene": number(r"^scene\s+([\d.]+) ms", text),
            "detect": number(r"found in ([\d.]+) ms", text),
            "stylize": number(r"^face pass: stylize ([\d.]+) ms", text),
            "blend": number(r"^face pass: .*blend ([\d.]+) ms", text),
        }
        for k, v in parts.items():
            times[k].append(v)
        times["sum"].append(sum(parts.values()))
        faces = re.search(r"^faces\s+(.*)$", text, re.MULTILINE).group(1)
        print(f"rep {rep + 1}: alone {times['alone'][-1]:.0f} ms, face pass {times['sum'][-1]:.0f} ms", file=sys.stderr)
    os.remove(output)
    median = {k: statistics.median(v) for k, v in times.items()}
    print(f"{os.path.basename(args.input)}, {args.reps} runs each, medians; faces {faces}")
    print("| scene pass alone | face pass: scene | detect | stylize faces | blend | sum | sum / alone |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {median['alone']:.0f} ms | {median['scene']:.0f} ms | {median['detect']:.0f} ms | "
          f"{median['stylize']:.0f} ms | {median['blend']:.0f} ms | {median['sum']:.0f} ms | "
          f"{median['sum'] / median['alone']:.2f} |")


if __name__ == "__main__":
    main()

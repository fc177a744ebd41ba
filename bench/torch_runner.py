#!/usr/bin/python3
"""One end-to-end timing run of PyTorch, driven by bench/compare.py:

    /usr/bin/python3 bench/torch_runner.py --model model.pt --size 512x512 --threads 1 --iters 3 [--output F]

Loads the state dict into the Generator of tools/torch_reference.py (default options: align_corners upsampling,
one norm group, as the GGUF and the ONNX export), runs one warm-up forward on the same deterministic input as
e2e_runner.cpp (its time is first_ms), then `iters` timed forwards; prints {"ms": [...], "cpu_ms": [...],
"first_ms": ..., "mean_abs": ..., "isa": "torch X"} (cpu_ms: process CPU time, all threads); --output writes the
last output as raw float32, channel-major.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import torch_reference  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True)
    p.add_argument("--size", required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--iters", type=int, default=1)
    p.add_argument("--output", help="write the last output here as raw float32")
    args = p.parse_args()
    height, width = map(int, args.size.split("x"))

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    model = torch_reference.Generator()
    model.load_state_dict(torch.load(args.model))
    model.eval()

    yy = torch.arange(height, dtype=torch.float64)[:, None]
    xx = torch.arange(width, dtype=torch.float64)[None, :]
    x = torch.stack([0.9 * torch.sin(0.031 * xx + 0.017 * yy + 1.7 * c) for c in range(3)])[None].float()

    ms, cpu_ms = [], []
    with torch.no_grad():
        t0 = time.perf_counter()
        model(x)  # warm-up
        first_ms = (time.perf_counter() - t0) * 1000
        for _ in range(args.iters):
            t0, c0 = time.perf_counter(), time.process_time()
            y = model(x)
            cpu_ms.append((time.process_time() - c0) * 1000)
            ms.append((time.perf_counter() - t0) * 1000)
    if args.output:
        y.contiguous().numpy().tofile(args.output)
    print(json.dumps({"ms": ms, "cpu_ms": cpu_ms, "first_ms": first_ms, "mean_abs": y.abs().mean().item(),
                      "isa": f"torch {torch.__version__}"}))


if __name__ == "__main__":
    main()

// One end-to-end timing run of ONNX Runtime (npm onnxruntime-node, CPU), driven by bench/compare.py:
//
//   node bench/ort_runner.mjs --ort DIR --model model_512x512.onnx --size 512x512 --threads 1 --iters 3 [--output F]
//
// DIR is where onnxruntime-node is installed (DIR/node_modules/onnxruntime-node). One warm-up run on the same
// deterministic input as e2e_runner.cpp (its time is first_ms), then `iters` timed runs; prints {"ms": [...],
// "cpu_ms": [...], "first_ms": ..., "mean_abs": ..., "isa": "onnxruntime X"} (cpu_ms: process CPU time, all
// threads); --output writes the last output as raw float32, channel-major.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const [height, width] = args.size.split('x').map(Number);
const threads = Number(args.threads ?? 1), iters = Number(args.iters ?? 1);

const ort = createRequire(join(resolve(args.ort), 'package.json'))('onnxruntime-node');
const session = await ort.InferenceSession.create(args.model, {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionMode: 'sequential',
});

const data = new Float32Array(3 * height * width);
for (let c = 0; c < 3; ++c)
  for (let y = 0; y < height; ++y)
    for (let x = 0; x < width; ++x)
      data[(c * height + y) * width + x] = 0.9 * Math.sin(0.031 * x + 0.017 * y + 1.7 * c);
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [1, 3, height, width]) };

const w0 = process.hrtime.bigint();
await session.run(feeds);  // warm-up
const firstMs = Number(process.hrtime.bigint() - w0) / 1e6;
const ms = [], cpuMs = [];
let output;
for (let i = 0; i < iters; ++i) {
  const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
  output = (await session.run(feeds))[session.outputNames[0]].data;
  const cpu = process.cpuUsage(c0);
  ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  cpuMs.push((cpu.user + cpu.system) / 1e3);
}
const meanAbs = output.reduce((s, v) => s + Math.abs(v), 0) / output.length;
if (args.output) writeFileSync(args.output, new Uint8Array(output.buffer, output.byteOffset, output.byteLength));
console.log(JSON.stringify({
  ms, cpu_ms: cpuMs, first_ms: firstMs, mean_abs: meanAbs, isa: `onnxruntime ${ort.env.versions.node}`,
}));

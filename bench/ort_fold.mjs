// Constant-folds an ONNX model with ONNX Runtime's basic graph optimizations and saves the result, for
// converters that cannot evaluate constant subgraphs themselves (bench/ncnn_setup.py: ncnn's onnx2ncnn
// stops at the Slice/ConstantOfShape/Cast arithmetic PyTorch's export emits for reflection padding):
//
//   node bench/ort_fold.mjs --ort DIR --model in.onnx --out folded.onnx
//
// "basic" optimizations only rewrite the graph with standard ONNX operators (constant folding, redundant
// node removal), so the saved model stays portable; the higher levels would insert ORT's own fused operators.
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const ort = createRequire(join(resolve(args.ort), 'package.json'))('onnxruntime-node');
await ort.InferenceSession.create(args.model, { graphOptimizationLevel: 'basic', optimizedModelFilePath: args.out });

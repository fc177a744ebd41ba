#!/usr/bin/env python3
"""Runs a TFLite model with Arm NN (TFLite parser, CpuRef backend): the face detector tests' reference.

Arm NN's reference backend is an independent float32 implementation of every TFLite op, so agreeing with it
checks both our importers (layouts, graph reading) and our runtime.

  usage: armnn_reference.py MODEL.tflite INPUT.f32 [INPUT.f32 ...]

Each INPUT.f32 holds the network's one input as raw little-endian float32 in the model's own shape (NHWC; for
BlazeFace [1, 128, 128, 3] in [-1, 1]). For each, writes one file per graph output next to it,
INPUT.<output name>.f32 with '/' in the name replaced by '_' (BlazeFace: INPUT.regressors.f32 [1, 896, 16] and
INPUT.classificators.f32 [1, 896, 1]). Files Arm NN cannot parse can often be made parseable by
tools/tflite_rewrite.py. One model per process: a second Arm NN runtime in the same process may not find the
CpuRef backend. Needs Debian's python3-pyarmnn (apt-get install python3-pyarmnn python3-numpy).
"""
import logging
import sys

import numpy as np

# pyarmnn logs a warning for each parser it was built without (Caffe, ONNX, TF); only TFLite matters here.
logging.getLogger("pyarmnn").setLevel(logging.ERROR)
import pyarmnn as ann  # noqa: E402


def load_network(model_path):
    parser = ann.ITfLiteParser()
    network = parser.CreateNetworkFromBinaryFile(model_path)
    runtime = ann.IRuntime(ann.CreationOptions())
    optimized, _ = ann.Optimize(network, [ann.BackendId("CpuRef")], runtime.GetDeviceSpec(), ann.OptimizerOptions())
    network_id, _ = runtime.LoadNetwork(optimized)
    inputs = parser.GetSubgraphInputTensorNames(0)
    if len(inputs) != 1:
        raise SystemExit(f"{model_path}: expected one input, found {inputs}")
    input_info = parser.GetNetworkInputBindingInfo(0, inputs[0])
    outputs = {name: parser.GetNetworkOutputBindingInfo(0, name) for name in parser.GetSubgraphOutputTensorNames(0)}
    return runtime, network_id, input_info, outputs


def run(runtime, network_id, input_info, outputs, input_path):
    shape = tuple(input_info[1].GetShape()[i] for i in range(input_info[1].GetNumDimensions()))
    data = np.fromfile(input_path, dtype="<f4")
    if data.size != int(np.prod(shape)):
        raise SystemExit(f"{input_path}: {data.size} floats, the model's input is {list(shape)}")
    input_tensors = ann.make_input_tensors([input_info], [data.reshape(shape)])
    names = list(outputs)
    output_tensors = ann.make_output_tensors([outputs[n] for n in names])
    runtime.EnqueueWorkload(network_id, input_tensors, output_tensors)
    stem = input_path[:-len(".f32")] if input_path.endswith(".f32") else input_path
    for name, result in zip(names, ann.workload_tensors_to_ndarray(output_tensors)):
        result.astype("<f4").tofile(f"{stem}.{name.replace('/', '_')}.f32")


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    runtime, network_id, input_info, outputs = load_network(sys.argv[1])
    for input_path in sys.argv[2:]:
        run(runtime, network_id, input_info, outputs, input_path)


if __name__ == "__main__":
    main()

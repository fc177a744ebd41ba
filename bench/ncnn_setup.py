"""ncnn for bench/compare.py: finds the ncnn build a user points --ncnn at, compiles bench/ncnn_runner.cpp against
it and converts the ONNX export ONNX Runtime runs with ncnn's onnx2ncnn. Nothing of ncnn is part of this project.

--ncnn PATH may be
- a build directory (PATH/src/libncnn.a; headers from the source tree named in its CMakeCache.txt),
- an install prefix (PATH/lib/libncnn.a, PATH/include/ncnn, PATH/bin/onnx2ncnn),
- a source tree holding such a build in a build*/ folder, or else none: then the library is built in
  PATH/build-animegan with ncnn's defaults for this CPU (runtime ISA dispatch, OpenMP, Release), Vulkan off.
  That build takes long (half an hour on two busy cores).

onnx2ncnn: taken from the build or install when there, else compiled here from the source tree's tools/onnx
(recent ncnn no longer builds it, preferring its PyTorch-based pnnx); it needs Protocol Buffers (Debian:
libprotobuf-dev protobuf-compiler). It cannot evaluate the Slice/ConstantOfShape/Cast arithmetic that PyTorch's
export emits for reflection padding, so the export is first constant-folded by ONNX Runtime (bench/ort_fold.mjs).
ncnnoptimize is not run: it fuses nothing in this network, where a GroupNorm separates every convolution from its
activation.
"""
import glob
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))


class Ncnn:
    def __init__(self, lib, includes, onnx2ncnn, source, describe):
        self.lib, self.includes, self.onnx2ncnn, self.source, self.describe = (lib, includes, onnx2ncnn, source,
                                                                               describe)


def _cache_value(cache, name):
    with open(cache) as f:
        m = re.search(rf"^{name}:\w+=(.*)$", f.read(), re.M)
    return m.group(1) if m else None


def _from_build(build):
    cache = os.path.join(build, "CMakeCache.txt")
    lib = os.path.join(build, "src", "libncnn.a")
    if not (os.path.exists(cache) and os.path.exists(lib)):
        return None
    source = _cache_value(cache, "ncnn_SOURCE_DIR") or _cache_value(cache, "CMAKE_HOME_DIRECTORY")
    options = [f"{k}={_cache_value(cache, k)}" for k in ("NCNN_RUNTIME_CPU", "NCNN_AVX512", "NCNN_AVX2", "NCNN_OPENMP")
               if _cache_value(cache, k) is not None]
    return Ncnn(lib, [os.path.join(build, "src"), os.path.join(source, "src")],
                os.path.join(build, "tools", "onnx", "onnx2ncnn"), source, f"build {build} ({', '.join(options)})")


def _from_prefix(prefix):
    lib = os.path.join(prefix, "lib", "libncnn.a")
    if not (os.path.exists(lib) and os.path.exists(os.path.join(prefix, "include", "ncnn", "net.h"))):
        return None
    return Ncnn(lib, [os.path.join(prefix, "include", "ncnn")], os.path.join(prefix, "bin", "onnx2ncnn"), None,
                f"install {prefix}")


def _build_source(source, call):
    build = os.path.join(source, "build-animegan")
    reason = call(["cmake", "-S", source, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DNCNN_VULKAN=OFF",
                   "-DNCNN_BUILD_TOOLS=OFF", "-DNCNN_BUILD_EXAMPLES=OFF", "-DNCNN_BUILD_BENCHMARK=OFF"])
    reason = reason or call(["cmake", "--build", build, "-j", str(os.cpu_count()), "--target", "ncnn"])
    return reason or _from_build(build)


def find(path, call):
    """An Ncnn for PATH (see the module's text), or the reason there is none."""
    path = os.path.abspath(path)
    found = _from_build(path) or _from_prefix(path)
    for build in sorted(glob.glob(os.path.join(path, "build*"))):
        found = found or _from_build(build)
    if not found and os.path.exists(os.path.join(path, "src", "net.h")):
        found = _build_source(path, call)
    return found or f"no ncnn build, install or source tree at {path}"


def _stale(target, *sources):
    return not os.path.exists(target) or any(os.path.getmtime(target) < os.path.getmtime(s) for s in sources)


def _onnx2ncnn(ncnn, out_dir, call):
    """The converter of the build, else one compiled from the source tree; or the reason there is none."""
    if os.path.exists(ncnn.onnx2ncnn):
        return ncnn.onnx2ncnn
    tools = os.path.join(ncnn.source or "", "tools", "onnx")
    if not os.path.exists(os.path.join(tools, "onnx2ncnn.cpp")):
        return f"{ncnn.describe} has no onnx2ncnn, and no source tree to build it from"
    program = os.path.join(out_dir, "onnx2ncnn")
    if _stale(program, os.path.join(tools, "onnx2ncnn.cpp")):
        reason = call(["protoc", f"--cpp_out={out_dir}", "-I", tools, os.path.join(tools, "onnx.proto")])
        reason = reason or call(["c++", "-O2", "-std=c++17", f"-I{out_dir}", os.path.join(tools, "onnx2ncnn.cpp"),
                                 os.path.join(out_dir, "onnx.pb.cc"), "-o", program, "-lprotobuf", "-lpthread"])
        if reason:
            return f"building onnx2ncnn (needs libprotobuf-dev protobuf-compiler): {reason}"
    return program


def prepare(ncnn, out_dir, onnx_by_size, fold, call):
    """Compiles the runner and converts each ONNX export (folded by fold(onnx, folded) first); returns
    (runner, {size: (param, bin)}) or the reason it could not."""
    os.makedirs(out_dir, exist_ok=True)
    runner, source = os.path.join(out_dir, "ncnn_runner"), os.path.join(HERE, "ncnn_runner.cpp")
    if _stale(runner, source, os.path.join(HERE, "runner_protocol.h"), ncnn.lib):
        # ncnn's layers run their loops under OpenMP (when built with it): link the compiler's runtime.
        reason = call(["c++", "-O2", "-std=c++17", "-fopenmp", "-Wall", "-Wextra", source, "-o", runner]
                      + [f"-I{d}" for d in ncnn.includes] + [ncnn.lib, "-lpthread"])
        if reason:
            return reason
    converter = _onnx2ncnn(ncnn, out_dir, call)
    if not os.path.exists(converter):
        return converter
    models = {}
    for size, onnx in onnx_by_size.items():
        stem = os.path.join(out_dir, f"model_{size}x{size}")
        folded, param, weights = stem + ".folded.onnx", stem + ".param", stem + ".bin"
        if _stale(param, onnx, converter):
            reason = fold(onnx, folded) or call([converter, folded, param, weights])
            if reason:
                return reason
        models[size] = (param, weights)
    return runner, models

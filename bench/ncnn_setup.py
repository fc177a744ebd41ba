"""ncnn for bench/compare.py: finds the ncnn build a user points --ncnn at, compiles bench/ncnn_runner.cpp against
it and converts the ONNX exports with ncnn's own onnx2ncnn (then ncnnoptimize when built, which fuses each
convolution with its activation, as ncnn's users are told to). Nothing of ncnn is part of this project.

--ncnn PATH may be
- a build directory (PATH/src/libncnn.a; headers from the source tree named in its CMakeCache.txt),
- an install prefix (PATH/lib/libncnn.a, PATH/include/ncnn, PATH/bin/onnx2ncnn),
- a source tree holding such a build in a build*/ folder, or else none: then it is built in PATH/build-animegan
  with ncnn's defaults for this CPU (runtime ISA dispatch, OpenMP, Release), Vulkan off, the converters on.
  onnx2ncnn needs Protocol Buffers (Debian: libprotobuf-dev protobuf-compiler). That build takes long.
"""
import glob
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


class Ncnn:
    def __init__(self, lib, includes, onnx2ncnn, optimize, describe):
        self.lib, self.includes, self.onnx2ncnn, self.optimize, self.describe = (lib, includes, onnx2ncnn,
                                                                                 optimize, describe)


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
    tool = lambda *p: os.path.join(build, "tools", *p)  # noqa: E731
    return Ncnn(lib, [os.path.join(build, "src"), os.path.join(source, "src")], tool("onnx", "onnx2ncnn"),
                tool("ncnnoptimize"), f"build {build} ({', '.join(options)})")


def _from_prefix(prefix):
    lib = os.path.join(prefix, "lib", "libncnn.a")
    if not (os.path.exists(lib) and os.path.exists(os.path.join(prefix, "include", "ncnn", "net.h"))):
        return None
    tool = lambda name: os.path.join(prefix, "bin", name)  # noqa: E731
    return Ncnn(lib, [os.path.join(prefix, "include", "ncnn")], tool("onnx2ncnn"), tool("ncnnoptimize"),
                f"install {prefix}")


def _build_source(source, call):
    build = os.path.join(source, "build-animegan")
    reason = call(["cmake", "-S", source, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DNCNN_VULKAN=OFF",
                   "-DNCNN_BUILD_TOOLS=ON", "-DNCNN_BUILD_EXAMPLES=OFF", "-DNCNN_BUILD_BENCHMARK=OFF"])
    reason = reason or call(["cmake", "--build", build, "-j", str(os.cpu_count()),
                             "--target", "ncnn", "onnx2ncnn", "ncnnoptimize"])
    return reason or _from_build(build)


def find(path, call):
    """An Ncnn for PATH (see the module's text), or the reason there is none."""
    path = os.path.abspath(path)
    found = _from_build(path) or _from_prefix(path)
    for build in sorted(glob.glob(os.path.join(path, "build*"))):
        found = found or _from_build(build)
    if not found and os.path.exists(os.path.join(path, "src", "net.h")):
        found = _build_source(path, call)
    if found is None:
        return f"no ncnn build, install or source tree at {path}"
    if isinstance(found, str):
        return found
    if not os.path.exists(found.onnx2ncnn):
        return f"{found.describe} has no onnx2ncnn (needs libprotobuf-dev protobuf-compiler, NCNN_BUILD_TOOLS=ON)"
    return found


def _stale(target, *sources):
    return not os.path.exists(target) or any(os.path.getmtime(target) < os.path.getmtime(s) for s in sources)


def prepare(ncnn, out_dir, onnx_by_size, call):
    """Compiles the runner and converts each ONNX export; returns (runner, {size: (param, bin)}) or a reason."""
    os.makedirs(out_dir, exist_ok=True)
    runner, source = os.path.join(out_dir, "ncnn_runner"), os.path.join(HERE, "ncnn_runner.cpp")
    if _stale(runner, source, ncnn.lib):
        # ncnn's layers run their loops under OpenMP (when built with it): link the compiler's runtime.
        reason = call(["c++", "-O2", "-std=c++17", "-fopenmp", "-Wall", "-Wextra", source, "-o", runner]
                      + [f"-I{d}" for d in ncnn.includes] + [ncnn.lib, "-lpthread"])
        if reason:
            return reason
    models = {}
    for size, onnx in onnx_by_size.items():
        stem = os.path.join(out_dir, f"model_{size}x{size}")
        param, weights = stem + ".param", stem + ".bin"
        if _stale(param, onnx):
            reason = call([ncnn.onnx2ncnn, onnx, param, weights])
            if reason:
                return reason
        if os.path.exists(ncnn.optimize):
            optimized = stem + ".opt.param", stem + ".opt.bin"
            if _stale(optimized[0], param):  # flag 0: keep float32 weights; a failure leaves the plain model
                call([ncnn.optimize, param, weights, *optimized, "0"])
            if not _stale(optimized[0], param):
                param, weights = optimized
        models[size] = (param, weights)
    return runner, models

// Photos of any size: the generator as a streaming network (engine/runtime/streaming.h), the memory each way
// of running it holds, and the choice between them under RunOptions::memory_limit. Generator::stylize and
// Generator::forward come here first; the full-frame pass stays in generator.cpp.
#pragma once

#include <functional>

#include <atomic>
#include "animegan/animegan.h"

#include "engine/models/animeganv2/layout.h"
#include "engine/runtime/ops.h"
#include "engine/runtime/thread_pool.h"

namespace animegan::animeganv2 {

// What the run needs of a loaded generator.
struct LoadedModel {
    const Layout& layers;
    const ModelInfo& info;
    kernels::ResizeMode resize;  // info.upsample's
    ThreadPool& threads;
    // The process's resident size right after the model was loaded (code, libraries, the widened and
    // transformed weights), and the weight file's bytes the model reads in place, resident once first read.
    size_t resident_at_load, mapped_weight_bytes;
    // The whole image at once (generator.cpp): input [3, H, W] in [-1, 1] -> output.
    std::function<Tensor(const Tensor&, const RunOptions&, const ops::SamplePass*)> full_frame;
    std::atomic<size_t>& last_peak_bytes;  // set by a streaming run: what its buffers held at most
    // Gives back the activation buffers the full-frame pass keeps between forwards (a streaming run's
    // memory limit does not count them).
    std::function<void()> release_buffers;
};

// The process's resident size now (Linux: /proc/self/statm; elsewhere a guess), the base a memory limit
// starts from.
size_t resident_bytes();

RunPlan plan_run(const LoadedModel& model, int width, int height, bool tensor_endpoints,
                 const RunOptions& options);

Image stylize(const LoadedModel& model, const Image& photo, const RunOptions& options);
Tensor forward(const LoadedModel& model, const Tensor& input, const RunOptions& options);

}  // namespace animegan::animeganv2

// Streaming execution: a network of convolutions (each fused with its input's pending norm, resize and
// padding, see fused_conv.h), residual additions and one input, run top to bottom in bands of rows. Each node
// keeps only the rows its consumers still need (a ring of rows), so memory grows with the image's width, not
// its area.
//
// A norm over the whole image is a barrier: nothing after it can be computed before all of its input has
// been. So a streaming pass needs every statistic in advance, and getting them exactly takes one sweep per
// norm layer: sweep k runs the network from the input (or from a checkpoint: a stored whole-height copy of an
// earlier node) down to norm k's convolution and adds up its statistics. Plan (below) orders those sweeps,
// keeps checkpoints where the memory budget allows, and counts every buffer in a dry run first, so the peak
// is known before anything is allocated. Sweeps that only measure statistics may store their rows as float16:
// the rounding averages out over the millions of values a statistic sums (tests/test_streaming.cpp bounds
// the effect), while the pass that makes the output keeps float32 throughout.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/runtime/fused_conv.h"

namespace animegan::stream {

// Bytes held by the buffers of a streaming run, current and peak. A dry run counts without allocating, so
// it measures exactly what the real run will hold.
class MemoryMeter {
  public:
    explicit MemoryMeter(bool dry) : dry_(dry) {}
    bool dry() const { return dry_; }
    void add(size_t bytes);
    void remove(size_t bytes) { current_ -= bytes; }
    size_t current() const { return current_; }
    size_t peak() const { return peak_; }

  private:
    bool dry_;
    size_t current_ = 0, peak_ = 0;
};

// One node. Node 0 is the input; every node's inputs come before it.
struct Node {
    enum class Kind { Input, Conv, Add };
    Kind kind = Kind::Input;
    int channels = 0, height = 0, width = 0;
    int input = -1, input_b = -1;         // Conv: input; Add: input + input_b
    int view_height = 0, view_width = 0;  // Conv: the input resized to this first (its own size: no resize)
    kernels::ResizeMode resize_mode = kernels::ResizeMode::AlignCorners;
    ops::ConvSpec conv{};
    // The per-channel transform consumers apply to this node's values (a norm's affine and LeakyReLU, a
    // channel attention's gate), set once its statistics are known; empty: none.
    std::vector<float> scale, shift;
    float negative_slope = 1.f;
    double cost = 0;   // relative cost per output row, for progress (multiply-adds, Winograd discounted)
    std::string name;  // for descriptions of plans
};

using Graph = std::vector<Node>;

// Fills row y of the input ([channels][width] floats).
using InputRows = std::function<void(int y, float* row)>;

// Receives rows [first_row, first_row + rows) of a sweep's last node as computed ([channels][rows][width]).
using Sink = std::function<void(int first_row, int rows, const float* band)>;

// Per-channel sums and sums of squares over a node's rows.
using ops::Moments;

// A stored whole-height copy of one node's raw values.
struct Checkpoint;

// What one sweep does.
struct Sweep {
    int target = 0;     // the last node computed
    bool half = false;  // float16 row buffers and checkpoint
    enum class Statistics { None, Raw, Transformed } statistics = Statistics::None;
    int keep = -1;                // node stored whole, for later sweeps to start from; -1: none
    bool consume_source = false;  // release the source checkpoint's rows as this sweep passes them
    Sink sink;                    // receives the target's rows
};

class Executor {
  public:
    // dry: count memory and cost without allocating or computing.
    Executor(const Graph& graph, ThreadPool& threads, const kernels::KernelTable& kernels, InputRows input,
             MemoryMeter& meter, int band_rows);
    ~Executor();

    // Runs one sweep from the current checkpoint (or the input); afterwards the node kept, if any, is the
    // checkpoint. Calls on_rows(cost) after each band of each node with its share of the cost.
    Moments run(const Sweep& sweep, const std::function<void(double)>& on_cost = {});
    int checkpoint_node() const;  // -1: none
    void drop_checkpoint();
    // Pretends node's rows are all stored (a dry run's stand-in for a checkpoint an earlier sweep kept).
    void assume_checkpoint(int node, bool half);

    // Rows per band of a node (a multiple of the Winograd tile, scaled with the node's height).
    int band_rows(int node) const;

  private:
    class Run;
    const Graph& graph_;
    ThreadPool& threads_;
    const kernels::KernelTable& kernels_;
    InputRows input_;
    MemoryMeter& meter_;
    int band_rows_;
    std::unique_ptr<Checkpoint> checkpoint_;
};

// The statistics a network needs before its last sweep, in execution order: the raw moments of a norm's
// convolution, or (transformed) the sums of a node's values after its pending transform (channel attention).
struct StatisticsItem {
    int node;
    bool transformed;
};

// The sweeps of an exact streaming run and what they hold: one statistics sweep per item, each starting from
// the latest checkpoint that fitted, then the final float32 pass from the input.
struct Plan {
    std::vector<Sweep> sweeps;  // statistics sweeps then the final pass (its sink set by the caller)
    size_t peak_bytes = 0;      // of the executor's buffers
    double cost = 0;            // sum of the sweeps' costs
    double final_cost = 0;      // the final pass alone

    // One line per sweep: "block_c.1.layers.0.1 from block_b.1 (kept), keep block_c.1.layers.0.1".
    std::vector<std::string> describe(const Graph& graph) const;
};

// Chooses checkpoints greedily: for each statistics sweep, the latest node that separates the network (no
// edge jumps over it) among those it computes, if the dry run of that sweep fits in budget_bytes; else it
// starts from the previous checkpoint again. Statistics sweeps store float16 when half_statistics (raw values
// rounded to float16 are only good for statistics when they are not far from the mean in units of the
// deviation, which holds for a norm over all channels, not for instance norm); the final pass (from the
// input, checkpoints dropped) when half_output (its output then carries float16's rounding: some 5e-3). With
// no items, the plan is the final pass alone (statistics known).
Plan plan_sweeps(const Graph& graph, const std::vector<StatisticsItem>& items, ThreadPool& threads,
                 const kernels::KernelTable& kernels, int band_rows, size_t budget_bytes,
                 bool half_statistics, bool half_output);

// Runs a plan: after each statistics sweep, on_statistics(item, moments) sets the pending transforms it
// implies on the graph; the final sweep's sink gets the output. on_progress(fraction) after every band.
// Returns the peak bytes the buffers held (the plan's peak_bytes: the dry run counts the same way).
size_t run_plan(Graph& graph, const std::vector<StatisticsItem>& items, const Plan& plan, ThreadPool& threads,
                const kernels::KernelTable& kernels, int band_rows, const InputRows& input, const Sink& sink,
                const std::function<void(size_t item, const Moments&)>& on_statistics,
                const std::function<void(double fraction)>& on_progress);

}  // namespace animegan::stream

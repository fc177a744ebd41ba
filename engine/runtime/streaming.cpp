#include "engine/runtime/streaming.h"

#include <sys/mman.h>
#include <unistd.h>
#include <algorithm>
#include <deque>
#include <new>

#include "animegan/error.h"

namespace animegan::stream {
namespace {

constexpr int kTileRows = 4;  // Winograd F(4x4, 3x3)'s tile: bands start on multiples of it (see band_rows)

int round_up(int x, int multiple) {
    return (x + multiple - 1) / multiple * multiple;
}

int ceil_div(int x, int y) {
    return (x + y - 1) / y;
}

size_t page_bytes(size_t bytes) {
    static const size_t page = size_t(sysconf(_SC_PAGESIZE));
    return (bytes + page - 1) / page * page;
}

// Whole pages straight from the system, counted by the meter (a dry run only counts). Freed pages go back at
// once: rows of a few hundred kilobytes through malloc would stay on its heap between sweeps, and the
// resident size would creep past what the meter counts.
class Pages {
  public:
    Pages() = default;
    Pages(MemoryMeter& meter, size_t bytes) : meter_(&meter), bytes_(page_bytes(bytes)) {
        meter_->add(bytes_);
        if (meter.dry() || bytes_ == 0) return;
        void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        data_ = p;
    }
    Pages(Pages&& other) noexcept { *this = std::move(other); }
    Pages& operator=(Pages&& other) noexcept {
        std::swap(meter_, other.meter_);
        std::swap(bytes_, other.bytes_);
        std::swap(data_, other.data_);
        return *this;
    }
    ~Pages() {
        if (data_) munmap(data_, bytes_);
        if (meter_) meter_->remove(bytes_);
    }
    void* data() const { return data_; }

  private:
    MemoryMeter* meter_ = nullptr;
    size_t bytes_ = 0;
    void* data_ = nullptr;
};

// Storage of `floats` floats counted by the meter: a real allocation unless the run is dry.
class Buffer {
  public:
    Buffer(MemoryMeter& meter, size_t floats) : pages_(meter, floats * sizeof(float)) {}
    float* data() { return static_cast<float*>(pages_.data()); }

  private:
    Pages pages_;
};

}  // namespace

void MemoryMeter::add(size_t bytes) {
    current_ += bytes;
    peak_ = std::max(peak_, current_);
}

// The rows [first, end) of one node, one buffer per row ([channels][width], float32 or float16). Released
// rows' buffers are reused for later rows (up to keep_free of them), so a ring of rows allocates once.
class RowStore {
  public:
    RowStore(int channels, int width, bool half, MemoryMeter& meter, size_t keep_free)
        : channels_(channels), width_(width), half_(half), meter_(meter), keep_free_(keep_free) {}
    RowStore(const RowStore&) = delete;
    RowStore& operator=(const RowStore&) = delete;

    size_t row_bytes() const { return size_t(channels_) * width_ * (half_ ? 2 : 4); }
    bool half() const { return half_; }
    int first() const { return first_; }
    int end() const { return first_ + int(rows_.size()); }

    // Storage for row end(); the row is then held.
    void* add_row() {
        if (!free_.empty()) {
            rows_.push_back(std::move(free_.back()));
            free_.pop_back();
        } else {
            rows_.emplace_back(meter_, row_bytes());
        }
        return rows_.back().data();
    }

    const void* row(int y) const { return rows_[size_t(y - first_)].data(); }

    // Releases the rows before y (never past end()).
    void release_below(int y) {
        if (pinned) return;
        while (first_ < y && !rows_.empty()) {
            if (free_.size() < keep_free_) free_.push_back(std::move(rows_.front()));
            rows_.pop_front();
            ++first_;
        }
    }

    ops::StoredRows view(int height) const {
        ops::StoredRows v;
        v.channels = channels_, v.height = height, v.width = width_;
        v.half = half_;
        v.channel_stride = size_t(width_);
        v.row = [this](int y) { return row(y); };
        return v;
    }

    bool pinned = false;  // rows are kept whatever the consumers say (a checkpoint being written or reused)

  private:
    int channels_, width_;
    bool half_;
    MemoryMeter& meter_;
    size_t keep_free_;
    int first_ = 0;
    std::deque<Pages> rows_;
    std::vector<Pages> free_;
};

struct Checkpoint {
    int node = -1;
    std::unique_ptr<RowStore> rows;
};

Executor::Executor(const Graph& graph, ThreadPool& threads, const kernels::KernelTable& kernels,
                   InputRows input, MemoryMeter& meter, int band_rows)
    : graph_(graph),
      threads_(threads),
      kernels_(kernels),
      input_(std::move(input)),
      meter_(meter),
      band_rows_(band_rows) {}

Executor::~Executor() = default;

void Executor::assume_checkpoint(int node, bool half) {
    const Node& n = graph_[size_t(node)];
    checkpoint_ = std::make_unique<Checkpoint>();
    checkpoint_->node = node;
    checkpoint_->rows = std::make_unique<RowStore>(n.channels, n.width, half, meter_, 0);
    checkpoint_->rows->pinned = true;
    for (int y = 0; y < n.height; ++y) checkpoint_->rows->add_row();
}

int Executor::checkpoint_node() const {
    return checkpoint_ ? checkpoint_->node : -1;
}

void Executor::drop_checkpoint() {
    checkpoint_.reset();
}

int Executor::band_rows(int node) const {
    const int full = graph_[0].height;
    const int scaled = ceil_div(band_rows_ * graph_[size_t(node)].height, full);
    return std::max(kTileRows, round_up(scaled, kTileRows));
}

namespace {

// Input rows [first, last) that output rows [r0, r1) of a node read (of each input, for an addition).
std::pair<int, int> rows_needed(const Node& node, const ops::FusedConvView* view, int r0, int r1) {
    if (node.kind == Node::Kind::Add) return {r0, r1};
    return view->stored_rows(r0, r1);
}

// Output channel chunks and row sub-bands of one band, so that every thread has work: row sub-bands of whole
// Winograd tiles first, then channel chunks of whole micro-kernel blocks (6 channels).
struct Split {
    int sub_rows, sub_bands, chunk, chunks;
};

Split split_band(int rows, int out_channels, int threads) {
    Split s;
    s.sub_bands = std::max(1, std::min(threads, rows / kTileRows));
    s.sub_rows = round_up(ceil_div(rows, s.sub_bands), kTileRows);
    s.sub_bands = ceil_div(rows, s.sub_rows);
    const int chunks = threads == 1 ? 1 : std::max(1, ceil_div(2 * threads, s.sub_bands));
    s.chunk = std::min(out_channels, round_up(ceil_div(out_channels, chunks), 6));
    s.chunks = ceil_div(out_channels, s.chunk);
    return s;
}

}  // namespace

// One sweep: per node, its rows and how far its consumers have read them; the scratch buffers; the
// statistics. Nodes are computed a band at a time, on demand: the target asks for its next band, which asks
// its inputs for the rows that band reads, and so on up to the input or the checkpoint.
class Executor::Run {
  public:
    Run(Executor& executor, const Sweep& sweep, const std::function<void(double)>& on_cost)
        : ex_(executor),
          graph_(executor.graph_),
          k_(executor.kernels_),
          threads_(executor.threads_),
          sweep_(sweep),
          on_cost_(on_cost),
          dry_(executor.meter_.dry()),
          thread_count_(executor.threads_.size()),
          nodes_(graph_.size()) {}

    ~Run() { ex_.meter_.remove(gather_bytes_); }

    Moments execute() {
        mark_computed();
        make_stores_and_scratch();
        const Node& target = graph_[size_t(sweep_.target)];
        NodeRun& t = nodes_[size_t(sweep_.target)];
        if (t.source) {
            statistics_of_checkpoint();
        } else {
            for (int r = 0; r < target.height; r += t.band) {
                ensure(sweep_.target, r + t.band);
                // Nothing in this sweep reads the target: its rows go as soon as they are made (unless kept).
                t.store->release_below(t.produced);
            }
        }
        std::unique_ptr<Checkpoint>& checkpoint = ex_.checkpoint_;
        if (sweep_.consume_source || kept_) checkpoint.reset();
        if (kept_) checkpoint = std::move(kept_);
        if (checkpoint) checkpoint->rows->pinned = true;
        return std::move(moments_);
    }

  private:
    struct NodeRun {
        bool active = false;  // computed in this sweep (or its source)
        bool source = false;  // rows come from the checkpoint
        RowStore* store = nullptr;
        std::unique_ptr<RowStore> own;
        int produced = 0;
        int band = 0;
        std::vector<std::pair<int, int>> consumers;  // (consumer node, first row it still needs)
        std::unique_ptr<ops::FusedConvView> view;    // Conv nodes
    };

    std::vector<int> inputs(int n) const {
        const Node& node = graph_[size_t(n)];
        std::vector<int> in;
        if (node.input >= 0) in.push_back(node.input);
        if (node.input_b >= 0) in.push_back(node.input_b);
        return in;
    }

    // Which nodes this sweep computes: the target's ancestors, down to the checkpoint; and who reads whom.
    void mark_computed() {
        const int source = ex_.checkpoint_node();
        std::vector<int> stack{sweep_.target};
        while (!stack.empty()) {
            const int n = stack.back();
            stack.pop_back();
            NodeRun& s = nodes_[size_t(n)];
            if (s.active) continue;
            s.active = true;
            if (n == source) {
                s.source = true;
                continue;
            }
            if (n < source) throw Error("streaming: a sweep reaches past its checkpoint");
            for (int i : inputs(n)) stack.push_back(i);
        }
        for (size_t n = 0; n < graph_.size(); ++n) {
            if (!nodes_[n].active || nodes_[n].source) continue;
            for (int i : inputs(int(n))) nodes_[size_t(i)].consumers.push_back({int(n), 0});
        }
    }

    // Row stores (the checkpoint for the source, a ring for every other node, whole for the kept one) and the
    // scratch the largest band needs.
    void make_stores_and_scratch() {
        MemoryMeter& meter = ex_.meter_;
        size_t in_floats = 0, out_floats = 0, winograd_floats = 0, gather_floats = 0, temp_floats = 0;
        for (size_t n = 0; n < graph_.size(); ++n) {
            NodeRun& s = nodes_[n];
            if (!s.active) continue;
            const Node& node = graph_[n];
            s.band = ex_.band_rows(int(n));
            if (s.source) {
                s.store = ex_.checkpoint_->rows.get();
                s.store->pinned = !sweep_.consume_source;
                s.produced = node.height;
                if (int(n) == sweep_.target) {  // statistics straight from it, a band at a time
                    out_floats = std::max(out_floats, size_t(node.channels) * s.band * node.width);
                    temp_floats = std::max(temp_floats, size_t(s.band) * node.width);
                }
                continue;
            }
            const bool half = sweep_.half && node.kind != Node::Kind::Input;
            // Released rows' buffers are reused for the next band's rows.
            auto store = std::make_unique<RowStore>(node.channels, node.width, half, meter, size_t(s.band));
            s.store = store.get();
            if (int(n) == sweep_.keep) {
                kept_ = std::make_unique<Checkpoint>();
                kept_->node = int(n);
                store->pinned = true;
                kept_->rows = std::move(store);
            } else {
                s.own = std::move(store);
            }
            temp_floats = std::max(temp_floats, size_t(2) * node.width);
            if (node.kind != Node::Kind::Conv) continue;
            const Node& in = graph_[size_t(node.input)];
            s.view = std::make_unique<ops::FusedConvView>(in.channels, in.height, in.width, node.view_height,
                                                          node.view_width, node.resize_mode, node.conv);
            const ops::FusedConvView& v = *s.view;
            const int padded_rows = v.padded_rows(0, s.band).second;
            in_floats = std::max(in_floats, size_t(in.channels) * padded_rows * v.padded_width);
            out_floats = std::max(out_floats, size_t(node.channels) * s.band * node.width);
            temp_floats = std::max(temp_floats, size_t(s.band) * node.width);
            if (node.conv.winograd_weight && k_.conv_winograd) {
                const Split split = split_band(s.band, node.channels, thread_count_);
                const kernels::ConvShape shape = v.band_shape(0, std::min(split.sub_rows, node.height));
                winograd_floats = std::max(winograd_floats, kernels::winograd_scratch_floats(shape));
            }
            if (in.width != node.view_width || in.height != node.view_height) {
                // The gather's block of stored rows, transformed and resized across.
                const int block = padded_rows * in.height / node.view_height + 3;
                gather_floats = std::max(gather_floats, size_t(block) * (in.width + node.view_width));
            }
        }
        band_in_ = std::make_unique<Buffer>(meter, in_floats);
        band_out_ = std::make_unique<Buffer>(meter, out_floats);
        gather_bytes_ = gather_floats * sizeof(float) * size_t(thread_count_);
        meter.add(gather_bytes_);
        gather_.resize(size_t(thread_count_));
        for (int t = 0; t < thread_count_; ++t) {
            winograd_.push_back(std::make_unique<Buffer>(meter, winograd_floats));
            temp_.push_back(std::make_unique<Buffer>(meter, temp_floats));
            if (!dry_) gather_[size_t(t)].reserve(gather_floats);
        }
        if (sweep_.statistics != Sweep::Statistics::None) {
            const size_t channels = size_t(graph_[size_t(sweep_.target)].channels);
            moments_.sum.assign(channels, 0.0);
            moments_.sum_squares.assign(channels, 0.0);
        }
    }

    ops::PendingTransform pending_of(int n) const {
        const Node& node = graph_[size_t(n)];
        if (node.scale.empty()) return {};
        return {node.scale.data(), node.shift.data(), node.negative_slope};
    }

    ops::StoredRows rows_of(int n) const { return nodes_[size_t(n)].store->view(graph_[size_t(n)].height); }

    // Makes rows [.., end) of node n available, computing its bands (and their inputs') in order, and lets
    // its inputs drop the rows no band will read again.
    void ensure(int n, int end) {
        NodeRun& s = nodes_[size_t(n)];
        const Node& node = graph_[size_t(n)];
        end = std::min(end, node.height);
        if (s.source) return;
        while (s.produced < end) {
            const int r0 = s.produced, r1 = std::min(r0 + s.band, node.height);
            for (int i : inputs(n)) {
                const auto [lo, hi] = rows_needed(node, s.view.get(), r0, r1);
                if (hi > lo) ensure(i, hi);
            }
            switch (node.kind) {
                case Node::Kind::Input:
                    compute_input(n, r0, r1);
                    break;
                case Node::Kind::Conv:
                    compute_conv(n, r0, r1);
                    break;
                case Node::Kind::Add:
                    compute_add(n, r0, r1);
                    break;
            }
            s.produced = r1;
            if (on_cost_) on_cost_(node.cost * (r1 - r0));
            for (int i : inputs(n)) {
                const int next =
                    r1 >= node.height
                        ? graph_[size_t(i)].height
                        : rows_needed(node, s.view.get(), r1, std::min(r1 + s.band, node.height)).first;
                advance(i, n, next);
            }
        }
    }

    // The consumer `consumer` of node i will not read rows of i before `from` any more.
    void advance(int i, int consumer, int from) {
        NodeRun& s = nodes_[size_t(i)];
        int lowest = from;
        for (auto& [c, needed] : s.consumers) {
            if (c == consumer) needed = from;
            lowest = std::min(lowest, needed);
        }
        s.store->release_below(lowest);
    }

    void compute_input(int n, int r0, int r1) {
        NodeRun& s = nodes_[size_t(n)];
        for (int y = r0; y < r1; ++y) {
            void* row = s.store->add_row();
            if (!dry_) ex_.input_(y, static_cast<float*>(row));
        }
    }

    // A band of a convolution: its input rows gathered through the view (pending transform, resize, padding)
    // in parallel by channel, then convolved in parallel by row sub-band and channel chunk.
    void compute_conv(int n, int r0, int r1) {
        NodeRun& s = nodes_[size_t(n)];
        const Node& node = graph_[size_t(n)];
        const ops::FusedConvView& v = *s.view;
        const int rows = r1 - r0;
        const bool is_target = n == sweep_.target;
        if (!dry_) {
            const auto [first_padded, padded_count] = v.padded_rows(r0, r1);
            const ops::StoredRows in_rows = rows_of(node.input);
            const ops::PendingTransform pending = pending_of(node.input);
            const int in_channels = graph_[size_t(node.input)].channels;
            float* band_in = band_in_->data();
            const int gather_tasks = std::min(in_channels, 4 * thread_count_);
            threads_.parallel_tasks(size_t(gather_tasks), [&](int t, size_t task) {
                const int cb = int(task) * in_channels / gather_tasks,
                          ce = int(task + 1) * in_channels / gather_tasks;
                ops::gather_view_rows(k_, v, in_rows, pending, first_padded, padded_count, cb, ce, band_in,
                                      gather_[size_t(t)]);
            });
            const Split split = split_band(rows, node.channels, thread_count_);
            float* band_out = band_out_->data();
            const bool winograd = node.conv.winograd_weight && k_.conv_winograd;
            threads_.parallel_tasks(size_t(split.sub_bands * split.chunks), [&](int t, size_t task) {
                const int b = int(task) / split.chunks, o = int(task) % split.chunks;
                const int a0 = r0 + b * split.sub_rows, a1 = std::min(a0 + split.sub_rows, r1);
                kernels::ConvShape shape = v.band_shape(a0, a1);
                shape.in_plane_stride = size_t(padded_count) * v.padded_width;
                shape.out_plane_stride = size_t(rows) * v.out_width;
                const float* in = band_in + size_t(a0 - r0) * node.conv.stride * v.padded_width;
                float* out = band_out + size_t(a0 - r0) * v.out_width;
                const int oc0 = o * split.chunk, oc1 = std::min(oc0 + split.chunk, node.channels);
                if (winograd) {
                    k_.conv_winograd(shape, in, node.conv.winograd_weight, node.conv.bias, out, oc0, oc1,
                                     winograd_[size_t(t)]->data());
                } else if (node.conv.conv1x1_weight) {
                    k_.conv1x1(shape, in, node.conv.conv1x1_weight, node.conv.bias, out, oc0, oc1);
                } else {
                    k_.conv2d(shape, in, node.conv.weight, node.conv.bias, out, oc0, oc1);
                }
            });
            if (is_target && sweep_.statistics != Sweep::Statistics::None) add_moments(rows, band_out);
            if (is_target && sweep_.sink) sweep_.sink(r0, rows, band_out);
        }
        if (!is_target || sweep_.keep == n) store_rows(n, rows, dry_ ? nullptr : band_out_->data());
    }

    // A band of a residual addition: both inputs with their pending transforms, added.
    void compute_add(int n, int r0, int r1) {
        NodeRun& s = nodes_[size_t(n)];
        const Node& node = graph_[size_t(n)];
        std::vector<void*> dst;
        for (int y = r0; y < r1; ++y) dst.push_back(s.store->add_row());
        if (dry_) return;
        const ops::StoredRows a = rows_of(node.input), b = rows_of(node.input_b);
        const ops::PendingTransform pa = pending_of(node.input), pb = pending_of(node.input_b);
        const size_t width = size_t(node.width);
        threads_.parallel_tasks(size_t(node.channels), [&](int t, size_t c) {
            float* ta = temp_[size_t(t)]->data();
            float* tb = ta + width;
            for (int y = r0; y < r1; ++y) {
                ops::transform_stored_row(k_, a, pa, int(c), y, ta);
                ops::transform_stored_row(k_, b, pb, int(c), y, tb);
                void* row = dst[size_t(y - r0)];
                if (s.store->half()) {
                    k_.add(tb, ta, ta, 0, width);
                    k_.float_to_half(ta, static_cast<uint16_t*>(row) + c * width, width);
                } else {
                    k_.add(tb, ta, static_cast<float*>(row) + c * width, 0, width);
                }
            }
        });
    }

    // Copies (or rounds to float16) band rows ([channels][rows][width] at band) into the node's store.
    void store_rows(int n, int rows, const float* band) {
        NodeRun& s = nodes_[size_t(n)];
        const Node& node = graph_[size_t(n)];
        std::vector<void*> dst(static_cast<size_t>(rows));
        for (int r = 0; r < rows; ++r) dst[size_t(r)] = s.store->add_row();
        if (dry_) return;
        const size_t width = size_t(node.width);
        threads_.parallel_for(size_t(node.channels), [&](size_t b, size_t e) {
            for (int r = 0; r < rows; ++r) {
                for (size_t c = b; c < e; ++c) {
                    const float* from = band + (c * rows + size_t(r)) * width;
                    if (s.store->half()) {
                        k_.float_to_half(from, static_cast<uint16_t*>(dst[size_t(r)]) + c * width, width);
                    } else {
                        std::copy_n(from, width, static_cast<float*>(dst[size_t(r)]) + c * width);
                    }
                }
            }
        });
    }

    // Adds band rows of the target to the statistics: raw, or with its pending transform applied.
    void add_moments(int rows, const float* band) {
        const Node& target = graph_[size_t(sweep_.target)];
        const int channels = target.channels;
        const size_t plane = size_t(rows) * target.width;
        std::vector<double> sum(static_cast<size_t>(channels)), squares(static_cast<size_t>(channels));
        if (sweep_.statistics == Sweep::Statistics::Raw) {
            threads_.parallel_for(size_t(channels), [&](size_t b, size_t e) {
                k_.channel_moments(band, plane, int(b), int(e), sum.data(), squares.data());
            });
        } else {
            const ops::PendingTransform p = pending_of(sweep_.target);
            threads_.parallel_tasks(size_t(channels), [&](int t, size_t c) {
                float* temp = temp_[size_t(t)]->data();
                const float* in = band + c * plane;
                if (p.scale) {
                    k_.scale_shift_leaky_relu(in, temp, plane, &p.scale[c], &p.shift[c], p.negative_slope, 0,
                                              1);
                    in = temp;
                }
                k_.channel_moments(in, plane, 0, 1, &sum[c], &squares[c]);
            });
        }
        for (int c = 0; c < channels; ++c) {
            moments_.sum[size_t(c)] += sum[size_t(c)];
            moments_.sum_squares[size_t(c)] += squares[size_t(c)];
        }
        moments_.count += double(plane);
    }

    // The statistics of the checkpoint itself (a channel attention right after its norm's sweep kept it).
    void statistics_of_checkpoint() {
        const Node& target = graph_[size_t(sweep_.target)];
        NodeRun& t = nodes_[size_t(sweep_.target)];
        const ops::StoredRows rows = rows_of(sweep_.target);
        for (int r0 = 0; r0 < target.height; r0 += t.band) {
            const int r1 = std::min(r0 + t.band, target.height);
            if (!dry_) {
                float* band = band_out_->data();
                const size_t width = size_t(target.width);
                threads_.parallel_for(size_t(target.channels), [&](size_t b, size_t e) {
                    for (size_t c = b; c < e; ++c)
                        for (int y = r0; y < r1; ++y)
                            ops::transform_stored_row(k_, rows, {}, int(c), y,
                                                      band + (c * (r1 - r0) + size_t(y - r0)) * width);
                });
                add_moments(r1 - r0, band);
            }
            if (sweep_.consume_source) t.store->release_below(r1);
        }
    }

    Executor& ex_;
    const Graph& graph_;
    const kernels::KernelTable& k_;
    ThreadPool& threads_;
    const Sweep& sweep_;
    const std::function<void(double)>& on_cost_;
    const bool dry_;
    const int thread_count_;
    std::vector<NodeRun> nodes_;
    std::unique_ptr<Checkpoint> kept_;
    std::unique_ptr<Buffer> band_in_, band_out_;
    std::vector<std::unique_ptr<Buffer>> winograd_, temp_;  // per thread
    std::vector<std::vector<float>> gather_;                // per thread, reserved up front
    size_t gather_bytes_ = 0;
    Moments moments_;
};

Moments Executor::run(const Sweep& sweep, const std::function<void(double)>& on_cost) {
    return Run(*this, sweep, on_cost).execute();
}

namespace {

// Nodes that separate the network: no edge goes from a node before them to one after them, so their values
// alone determine everything after (a residual block's input is needed by its addition, so nothing inside the
// block qualifies).
std::vector<bool> cut_nodes(const Graph& graph) {
    std::vector<bool> cut(graph.size(), true);
    for (size_t v = 0; v < graph.size(); ++v) {
        for (int i : {graph[v].input, graph[v].input_b}) {
            if (i < 0) continue;
            for (size_t s = size_t(i) + 1; s < v; ++s) cut[s] = false;
        }
    }
    cut[0] = false;  // the input is always there
    return cut;
}

std::vector<bool> ancestors(const Graph& graph, int node) {
    std::vector<bool> seen(graph.size(), false);
    std::vector<int> stack{node};
    while (!stack.empty()) {
        const int n = stack.back();
        stack.pop_back();
        if (seen[size_t(n)]) continue;
        seen[size_t(n)] = true;
        for (int i : {graph[size_t(n)].input, graph[size_t(n)].input_b})
            if (i >= 0) stack.push_back(i);
    }
    return seen;
}

}  // namespace

std::vector<std::string> Plan::describe(const Graph& graph) const {
    std::vector<std::string> lines;
    int source = -1;
    for (const Sweep& s : sweeps) {
        const bool last = &s == &sweeps.back();
        if (last) source = -1;
        std::string line = (s.statistics == Sweep::Statistics::Transformed ? "sums of " : "") +
                           graph[size_t(s.target)].name + " from " +
                           (source < 0 ? std::string("the input") : graph[size_t(source)].name) +
                           (s.half ? ", float16" : ", float32");
        if (s.keep >= 0) line += ", keeps " + graph[size_t(s.keep)].name;
        lines.push_back(line);
        if (s.keep >= 0) source = s.keep;
    }
    return lines;
}

Plan plan_sweeps(const Graph& graph, const std::vector<StatisticsItem>& items, ThreadPool& threads,
                 const kernels::KernelTable& kernels, int band_rows, size_t budget_bytes,
                 bool half_statistics, bool half_output) {
    // A dry run of one sweep from a checkpoint at `source` (or the input): its peak bytes and cost.
    auto trial = [&](const Sweep& sweep, int source) {
        MemoryMeter meter(true);
        Executor executor(graph, threads, kernels, {}, meter, band_rows);
        if (source >= 0) executor.assume_checkpoint(source, half_statistics);
        double cost = 0;
        executor.run(sweep, [&](double c) { cost += c; });
        return std::pair<size_t, double>{meter.peak(), cost};
    };
    const std::vector<bool> cut = cut_nodes(graph);
    Plan plan;
    int source = -1;
    for (const StatisticsItem& item : items) {
        Sweep sweep;
        sweep.target = item.node;
        sweep.half = half_statistics;
        sweep.statistics = item.transformed ? Sweep::Statistics::Transformed : Sweep::Statistics::Raw;
        const std::vector<bool> computed = ancestors(graph, item.node);
        bool kept = false;
        for (int c = item.node; c > source && !kept; --c) {
            if (!cut[size_t(c)] || !computed[size_t(c)]) continue;
            Sweep keeping = sweep;
            keeping.keep = c;
            keeping.consume_source = source >= 0;
            const auto [peak, cost] = trial(keeping, source);
            if (peak > budget_bytes) continue;
            plan.sweeps.push_back(keeping);
            plan.peak_bytes = std::max(plan.peak_bytes, peak);
            plan.cost += cost;
            source = c;
            kept = true;
        }
        if (kept) continue;
        const auto [peak, cost] = trial(sweep, source);
        plan.sweeps.push_back(sweep);
        plan.peak_bytes = std::max(plan.peak_bytes, peak);
        plan.cost += cost;
    }
    Sweep last;
    last.target = int(graph.size()) - 1;
    last.half = half_output;
    const auto [peak, cost] = trial(last, -1);
    plan.sweeps.push_back(last);
    plan.peak_bytes = std::max(plan.peak_bytes, peak);
    plan.final_cost = cost;
    plan.cost += cost;
    return plan;
}

size_t run_plan(Graph& graph, const std::vector<StatisticsItem>& items, const Plan& plan, ThreadPool& threads,
                const kernels::KernelTable& kernels, int band_rows, const InputRows& input, const Sink& sink,
                const std::function<void(size_t item, const Moments&)>& on_statistics,
                const std::function<void(double fraction)>& on_progress) {
    if (plan.sweeps.size() != items.size() + 1) throw Error("streaming: plan and statistics do not match");
    MemoryMeter meter(false);
    Executor executor(graph, threads, kernels, input, meter, band_rows);
    double done = 0;
    auto on_cost = [&](double cost) {
        done += cost;
        if (on_progress) on_progress(plan.cost > 0 ? std::min(1.0, done / plan.cost) : 1.0);
    };
    for (size_t i = 0; i < items.size(); ++i) on_statistics(i, executor.run(plan.sweeps[i], on_cost));
    executor.drop_checkpoint();
    Sweep last = plan.sweeps.back();
    last.sink = sink;
    executor.run(last, on_cost);
    return meter.peak();
}

}  // namespace animegan::stream

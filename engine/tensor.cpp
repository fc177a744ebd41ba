#include "animegan/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <vector>

namespace animegan {
namespace {

constexpr size_t kAlignment = 64;  // a cache line, and the widest vector load (AVX-512)

float* allocate_floats(size_t count) {
    const size_t bytes = std::max<size_t>((count * sizeof(float) + kAlignment - 1) / kAlignment * kAlignment,
                                          kAlignment);
    void* p = std::aligned_alloc(kAlignment, bytes);
    if (!p) throw std::bad_alloc();
    return static_cast<float*>(p);
}

}  // namespace

struct BufferPool::State {
    struct Free {
        size_t capacity;
        float* data;
    };
    std::vector<Free> free;
    size_t allocated = 0, peak = 0;

    ~State() {
        for (Free& f : free) std::free(f.data);
    }

    // Smallest free buffer that fits, else a new one.
    std::pair<float*, size_t> acquire(size_t count) {
        auto best = free.end();
        for (auto it = free.begin(); it != free.end(); ++it) {
            if (it->capacity >= count && (best == free.end() || it->capacity < best->capacity)) best = it;
        }
        if (best != free.end()) {
            const Free f = *best;
            free.erase(best);
            return {f.data, f.capacity};
        }
        float* data = allocate_floats(count);
        allocated += count * sizeof(float);
        peak = std::max(peak, allocated);
        return {data, count};
    }
};

BufferPool::BufferPool() : state_(std::make_shared<State>()) {}
BufferPool::~BufferPool() = default;
size_t BufferPool::bytes_allocated() const { return state_->allocated; }
size_t BufferPool::peak_bytes_allocated() const { return state_->peak; }

Tensor::Tensor(int channels, int height, int width)
    : channels_(channels), height_(height), width_(width), data_(allocate_floats(size()), std::free) {}

Tensor::Tensor(int channels, int height, int width, BufferPool& pool)
    : channels_(channels), height_(height), width_(width) {
    auto state = pool.state_;
    const auto [data, capacity] = state->acquire(size());
    data_ = std::shared_ptr<float>(data, [state, capacity](float* p) { state->free.push_back({capacity, p}); });
}

}  // namespace animegan

// A float32 activation tensor of one image: [channels, height, width], row-major, 64-byte aligned.
// Copies share storage (like a shared_ptr); the storage may come from a BufferPool that reuses it once the
// last copy is gone.
#pragma once

#include <cstddef>
#include <memory>

namespace animegan {

class BufferPool;

class Tensor {
  public:
    Tensor() = default;
    Tensor(int channels, int height, int width);                    // fresh storage, uninitialized
    Tensor(int channels, int height, int width, BufferPool& pool);  // storage from (and back to) the pool

    int channels() const { return channels_; }
    int height() const { return height_; }
    int width() const { return width_; }
    size_t plane_size() const { return size_t(height_) * width_; }
    size_t size() const { return channels_ * plane_size(); }
    bool empty() const { return size() == 0; }

    float* data() { return data_.get(); }
    const float* data() const { return data_.get(); }
    float* channel(int c) { return data() + c * plane_size(); }
    const float* channel(int c) const { return data() + c * plane_size(); }

  private:
    int channels_ = 0, height_ = 0, width_ = 0;
    std::shared_ptr<float> data_;
};

// Keeps released activation buffers for reuse, so a forward pass allocates only up to its peak live set
// instead of once per layer. Not thread-safe: one pool serves one forward pass at a time.
class BufferPool {
  public:
    BufferPool();
    ~BufferPool();
    BufferPool(const BufferPool&) = delete;
    BufferPool& operator=(const BufferPool&) = delete;

    size_t bytes_allocated() const;  // currently held, in use or free
    size_t peak_bytes_allocated() const;

  private:
    friend class Tensor;
    struct State;
    std::shared_ptr<State> state_;  // shared with the deleters of the buffers handed out
};

}  // namespace animegan

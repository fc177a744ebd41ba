// A blocking queue between two pipeline stages that holds at most `capacity` frames (and a generous number of
// the small packets copied alongside them), so a fast stage waits for a slow one instead of filling memory.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>

namespace animegan::video {

template <typename Item>
class BoundedQueue {
  public:
    // is_heavy(item) says whether an item counts against `capacity` (frames) or against the packet allowance.
    BoundedQueue(int capacity, bool (*is_heavy)(const Item&)) : capacity_(capacity), is_heavy_(is_heavy) {}

    // Blocks while full; false when the consumer has given up (abort), and the item is dropped.
    bool push(Item item) {
        const bool heavy = is_heavy_(item);
        std::unique_lock<std::mutex> lock(mutex_);
        not_full_.wait(lock, [&] {
            return aborted_ || (heavy ? heavy_ < capacity_ : light_ < capacity_ * kLightPerHeavy);
        });
        if (aborted_) return false;
        (heavy ? heavy_ : light_) += 1;
        items_.push_back(std::move(item));
        not_empty_.notify_one();
        return true;
    }

    // Blocks while empty; false once the queue is closed and drained, or aborted.
    bool pop(Item& item) {
        std::unique_lock<std::mutex> lock(mutex_);
        not_empty_.wait(lock, [&] { return aborted_ || closed_ || !items_.empty(); });
        if (aborted_ || items_.empty()) return false;
        item = std::move(items_.front());
        items_.pop_front();
        (is_heavy_(item) ? heavy_ : light_) -= 1;
        not_full_.notify_one();
        return true;
    }

    // The producer is done: pop drains what is left, then returns false.
    void close() {
        std::lock_guard<std::mutex> lock(mutex_);
        closed_ = true;
        not_empty_.notify_all();
    }

    // Either side failed: both stop at once, queued items are dropped.
    void abort() {
        std::lock_guard<std::mutex> lock(mutex_);
        aborted_ = true;
        items_.clear();
        not_empty_.notify_all();
        not_full_.notify_all();
    }

  private:
    // Audio packets are a few hundred bytes; this many per frame of capacity covers any interleaving.
    static constexpr int kLightPerHeavy = 256;
    const int capacity_;
    bool (*is_heavy_)(const Item&);
    std::mutex mutex_;
    std::condition_variable not_full_, not_empty_;
    std::deque<Item> items_;
    int heavy_ = 0, light_ = 0;
    bool closed_ = false, aborted_ = false;
};

}  // namespace animegan::video

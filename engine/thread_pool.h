// A persistent pool of worker threads for data-parallel loops. Work is split into one contiguous chunk per
// thread, always the same way for the same (n, thread count), and the caller's thread takes the first chunk.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace animegan {

class ThreadPool {
public:
    explicit ThreadPool(int threads);  // total threads including the caller; <= 0 means all hardware threads
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return int(workers_.size()) + 1; }

    // Runs fn(begin, end) over [0, n) split across the threads; returns when all chunks are done.
    // fn must not throw.
    void parallel_for(size_t n, const std::function<void(size_t begin, size_t end)>& fn);

private:
    void worker_loop(int index);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable work_ready_, work_done_;
    const std::function<void(size_t, size_t)>* task_ = nullptr;
    size_t task_size_ = 0;
    unsigned long generation_ = 0;
    int pending_ = 0;
    bool stopping_ = false;
};

}  // namespace animegan

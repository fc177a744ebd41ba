#include "engine/runtime/thread_pool.h"

#include <algorithm>
#include <atomic>

namespace animegan {
namespace {

std::pair<size_t, size_t> chunk(size_t n, int parts, int index) {
    const size_t base = n / parts, extra = n % parts;
    const size_t begin = index * base + std::min<size_t>(index, extra);
    return {begin, begin + base + (size_t(index) < extra ? 1 : 0)};
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
    if (threads <= 0) threads = std::max(1u, std::thread::hardware_concurrency());
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    work_ready_.notify_all();
    for (std::thread& t : workers_) t.join();
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn) {
    const int parts = size();
    if (parts == 1 || n <= 1) {
        if (n > 0) fn(0, n);
        return;
    }
    run_on_all_threads([&](int thread) {
        const auto [begin, end] = chunk(n, parts, thread);
        if (begin < end) fn(begin, end);
    });
}

void ThreadPool::parallel_tasks(size_t n, const std::function<void(int, size_t)>& fn) {
    if (size() == 1 || n <= 1) {
        for (size_t task = 0; task < n; ++task) fn(0, task);
        return;
    }
    std::atomic<size_t> next{0};
    run_on_all_threads([&](int thread) {
        for (size_t task; (task = next.fetch_add(1, std::memory_order_relaxed)) < n;) fn(thread, task);
    });
}

void ThreadPool::run_on_all_threads(const std::function<void(int)>& body) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        body_ = &body;
        pending_ = size() - 1;
        ++generation_;
    }
    work_ready_.notify_all();
    body(0);
    std::unique_lock<std::mutex> lock(mutex_);
    work_done_.wait(lock, [this] { return pending_ == 0; });
    body_ = nullptr;
}

void ThreadPool::worker_loop(int index) {
    unsigned long seen = 0;
    for (;;) {
        const std::function<void(int)>* body;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            work_ready_.wait(lock, [&] { return stopping_ || generation_ != seen; });
            if (stopping_) return;
            seen = generation_;
            body = body_;
        }
        (*body)(index);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            --pending_;
        }
        work_done_.notify_one();
    }
}

}  // namespace animegan

// A persistent pool of worker threads for data-parallel loops; the caller's thread is thread 0 and works too.
// Results never depend on which thread ran what: callers make each element or task's arithmetic independent
// of the split.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
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

    // Runs fn(begin, end) over [0, n) split into one contiguous chunk per thread, always the same way for the
    // same (n, thread count); returns when all chunks are done. For uniform work (elementwise loops). fn must
    // not throw.
    void parallel_for(size_t n, const std::function<void(size_t begin, size_t end)>& fn);

    // Runs fn(thread, task) for every task in [0, n), each thread claiming the next unclaimed task when it is
    // free, so a core slowed by other processes (the machines are shared) or a costlier task does not leave
    // the other cores waiting. thread is in [0, size()), for per-thread scratch. fn must not throw.
    void parallel_tasks(size_t n, const std::function<void(int thread, size_t task)>& fn);

  private:
    // Runs body(thread) once on every thread; returns when all are done.
    void run_on_all_threads(const std::function<void(int thread)>& body);
    void worker_loop(int index);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable work_ready_, work_done_;
    const std::function<void(int)>* body_ = nullptr;
    unsigned long generation_ = 0;
    int pending_ = 0;
    bool stopping_ = false;
};

// parallel_tasks for tasks that may throw (a network pass on a bad input, an allocation): every task still
// runs, and the first exception is rethrown once all are done.
template <typename Fn>
void parallel_tasks_rethrowing(ThreadPool& pool, size_t n, Fn&& fn) {
    std::exception_ptr error;
    std::mutex error_mutex;
    pool.parallel_tasks(n, [&](int thread, size_t task) {
        try {
            fn(thread, task);
        } catch (...) {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
        }
    });
    if (error) std::rethrow_exception(error);
}

}  // namespace animegan

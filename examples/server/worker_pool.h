// A fixed number of workers, each with its own copy of every generator (a Generator runs one image at a
// time), taking images from a bounded queue. A full queue refuses at once (the caller answers 503), so memory
// stays within workers x the per-image budget plus the queued uploads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "metrics.h"
#include "models.h"

namespace server {

// The size an image is stylized at: its longer side brought down to max_side (0 = as uploaded), never up.
struct SizePlan {
    int width = 0, height = 0;
    std::string error;  // why the image cannot be processed (empty when it can)
};
SizePlan plan_size(int width, int height, int max_side, int64_t max_pixels, int64_t max_input_pixels);

struct Job {
    std::string upload;  // the encoded picture as received
    size_t model = 0;    // index into ModelDirectory::generators
    bool face_pass = false;
    int max_side = 1024;         // 0 = as uploaded
    std::string format = "png";  // "png" or "jpeg"
    int jpeg_quality = 92;
};

struct JobResult {
    int status = 200;     // 200, or the HTTP status of the failure
    std::string message;  // the failure in plain words
    std::string encoded;  // the picture
    int width = 0, height = 0, faces = 0;
    double queue_ms = 0, work_ms = 0;
};

struct WorkerPoolOptions {
    int workers = 1;
    int threads_per_worker = 0;    // <= 0: the hardware threads shared out between the workers
    int queue_capacity = 4;        // images waiting for a worker
    int64_t max_pixels = 0;        // largest image stylized (width x height after the size choice)
    int64_t max_input_pixels = 0;  // largest upload decoded
    // The memory the workers' runs may hold together (0: animegan::default_memory_limit()); each run gets an
    // equal share as its RunOptions::memory_limit, so a large picture streams instead of growing the process.
    size_t memory_limit = 0;
};

class WorkerPool {
  public:
    // Loads every generator (and the face detector) once per worker; throws animegan::Error on failure.
    WorkerPool(const ModelDirectory& models, const WorkerPoolOptions& options, Metrics& metrics);
    ~WorkerPool();

    // Queues the job; false (and the job untouched) when the queue is full or the pool is stopping.
    bool submit(Job& job, std::future<JobResult>& result);
    // Finishes every queued job, then stops the workers.
    void shutdown();

    QueueGauges gauges() const;
    // Seconds a new job would wait for the jobs ahead of it, rounded up, at least 1: for Retry-After.
    int estimated_wait_seconds() const;
    int threads_per_worker() const { return threads_per_worker_; }

  private:
    struct Worker;
    struct Pending {
        Job job;
        std::promise<JobResult> promise;
        std::chrono::steady_clock::time_point queued_at;
    };
    void run(Worker& worker);
    JobResult process(Worker& worker, const Job& job);

    const ModelDirectory& models_;
    WorkerPoolOptions options_;
    Metrics& metrics_;
    int threads_per_worker_ = 1;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<std::thread> threads_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Pending> queue_;
    int busy_ = 0;
    bool stopping_ = false;
    double mean_job_seconds_ = 0;
};

}  // namespace server

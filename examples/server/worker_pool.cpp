#include "worker_pool.h"

#include <algorithm>
#include <cmath>
#include <new>

#include "animegan/animegan.h"
#include "animegan/face.h"
#include "animegan/face_pass.h"
#include "image_sniff.h"

namespace server {

namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string megapixels(int64_t pixels) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", double(pixels) / 1e6);
    return text;
}

// The photo turned as its EXIF orientation says (1..8), so that the result stands as the photo is shown.
animegan::Image apply_orientation(const animegan::Image& in, int orientation) {
    if (orientation <= 1 || orientation > 8) return in;
    const int w = in.width, h = in.height;
    const bool swap = orientation >= 5;
    animegan::Image out;
    out.width = swap ? h : w;
    out.height = swap ? w : h;
    out.pixels.resize(in.pixels.size());
    for (int y = 0; y < out.height; ++y) {
        for (int x = 0; x < out.width; ++x) {
            int sx = x, sy = y;
            switch (orientation) {
                case 2:
                    sx = w - 1 - x;
                    break;  // mirrored
                case 3:
                    sx = w - 1 - x, sy = h - 1 - y;
                    break;  // upside down
                case 4:
                    sy = h - 1 - y;
                    break;  // mirrored upside down
                case 5:
                    sx = y, sy = x;
                    break;  // transposed
                case 6:
                    sx = y, sy = h - 1 - x;
                    break;  // turned a quarter clockwise
                case 7:
                    sx = w - 1 - y, sy = h - 1 - x;
                    break;  // transversed
                case 8:
                    sx = w - 1 - y, sy = x;
                    break;  // turned a quarter counter-clockwise
            }
            const uint8_t* src = &in.pixels[(size_t(sy) * w + sx) * 3];
            std::copy_n(src, 3, &out.pixels[(size_t(y) * out.width + x) * 3]);
        }
    }
    return out;
}

}  // namespace

SizePlan plan_size(int width, int height, int max_side, int64_t max_pixels, int64_t max_input_pixels) {
    SizePlan plan;
    const std::string dims = std::to_string(width) + "x" + std::to_string(height);
    if (width <= 0 || height <= 0) {
        plan.error = "The picture has no size.";
        return plan;
    }
    if (max_input_pixels > 0 && int64_t(width) * height > max_input_pixels) {
        plan.error = "The picture is " + dims + " (" + megapixels(int64_t(width) * height) +
                     " megapixels); this server accepts at most " + megapixels(max_input_pixels) +
                     " megapixels. Please send a smaller picture.";
        return plan;
    }
    const int longer = std::max(width, height);
    const double scale = max_side > 0 && longer > max_side ? double(max_side) / longer : 1.0;
    plan.width = std::max(1, int(std::lround(width * scale)));
    plan.height = std::max(1, int(std::lround(height * scale)));
    if (plan.width < animegan::kMinSide || plan.height < animegan::kMinSide) {
        plan.error = "The picture is " + dims + "; at the chosen size it would be " +
                     std::to_string(plan.width) + "x" + std::to_string(plan.height) +
                     ", and both sides need at least " + std::to_string(animegan::kMinSide) + " pixels.";
    } else if (max_pixels > 0 && int64_t(plan.width) * plan.height > max_pixels) {
        plan.error = "At the chosen size the picture would be " + std::to_string(plan.width) + "x" +
                     std::to_string(plan.height) + " (" + megapixels(int64_t(plan.width) * plan.height) +
                     " megapixels); this server stylizes at most " + megapixels(max_pixels) +
                     " megapixels. Please choose a smaller size.";
    }
    return plan;
}

struct WorkerPool::Worker {
    std::vector<animegan::Generator> generators;
    std::unique_ptr<animegan::FaceDetector> detector;
};

WorkerPool::WorkerPool(const ModelDirectory& models, const WorkerPoolOptions& options, Metrics& metrics)
    : models_(models), options_(options), metrics_(metrics) {
    options_.workers = std::max(1, options_.workers);
    const int hardware = int(std::max(1u, std::thread::hardware_concurrency()));
    threads_per_worker_ = options_.threads_per_worker > 0 ? options_.threads_per_worker
                                                          : std::max(1, hardware / options_.workers);
    for (int w = 0; w < options_.workers; ++w) {
        auto worker = std::make_unique<Worker>();
        for (const GeneratorFile& g : models_.generators)
            worker->generators.push_back(animegan::Generator::load(g.path, threads_per_worker_));
        if (!models_.detector_path.empty())
            worker->detector = std::make_unique<animegan::FaceDetector>(
                animegan::FaceDetector::load(models_.detector_path, threads_per_worker_));
        workers_.push_back(std::move(worker));
    }
    for (auto& worker : workers_) threads_.emplace_back([this, w = worker.get()] { run(*w); });
}

WorkerPool::~WorkerPool() {
    shutdown();
}

bool WorkerPool::submit(Job& job, std::future<JobResult>& result) {
    std::lock_guard<std::mutex> lock(mutex_);
    const int idle = int(workers_.size()) - busy_;
    if (stopping_ || int(queue_.size()) >= options_.queue_capacity + std::max(0, idle)) return false;
    queue_.push_back(Pending{std::move(job), {}, Clock::now()});
    result = queue_.back().promise.get_future();
    cv_.notify_one();
    return true;
}

void WorkerPool::shutdown() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
}

QueueGauges WorkerPool::gauges() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return {int(queue_.size()), options_.queue_capacity, busy_, int(workers_.size())};
}

int WorkerPool::estimated_wait_seconds() const {
    std::lock_guard<std::mutex> lock(mutex_);
    const double ahead = double(queue_.size() + size_t(busy_)) / double(workers_.size());
    const double mean = mean_job_seconds_ > 0 ? mean_job_seconds_ : 2.0;
    return int(std::clamp(std::ceil(ahead * mean), 1.0, 300.0));
}

void WorkerPool::run(Worker& worker) {
    for (;;) {
        Pending pending;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and every queued image is done
            pending = std::move(queue_.front());
            queue_.pop_front();
            ++busy_;
        }
        const Clock::time_point start = Clock::now();
        JobResult result;
        try {
            result = process(worker, pending.job);
        } catch (const std::bad_alloc&) {
            result = {};
            result.status = 503;
            result.message = "The server ran out of memory for this picture; try a smaller size.";
        } catch (const std::exception& e) {
            result = {};
            result.status = 500;
            result.message = std::string("Stylizing failed: ") + e.what();
        }
        const Clock::time_point end = Clock::now();
        result.queue_ms = ms_between(pending.queued_at, start);
        result.work_ms = ms_between(start, end);
        pending.job.upload.clear();
        pending.job.upload.shrink_to_fit();
        {
            std::lock_guard<std::mutex> lock(mutex_);
            --busy_;
            const double seconds = result.work_ms / 1000;
            mean_job_seconds_ = mean_job_seconds_ == 0 ? seconds : 0.8 * mean_job_seconds_ + 0.2 * seconds;
        }
        if (result.status == 200)
            metrics_.observe_processing(models_.generators[pending.job.model].id, result.work_ms / 1000,
                                        double(result.width) * result.height / 1e6);
        pending.promise.set_value(std::move(result));
    }
}

JobResult WorkerPool::process(Worker& worker, const Job& job) {
    JobResult result;
    animegan::Image photo;
    try {
        photo = animegan::decode_image(reinterpret_cast<const uint8_t*>(job.upload.data()), job.upload.size(),
                                       "upload");
    } catch (const animegan::Error& e) {
        result.status = 422;
        result.message =
            std::string("The picture could not be read; the file may be damaged or incomplete (") + e.what() +
            ").";
        return result;
    }
    const int orientation =
        sniff_image(reinterpret_cast<const uint8_t*>(job.upload.data()), job.upload.size()).orientation;
    const SizePlan plan =
        plan_size(photo.width, photo.height, job.max_side, options_.max_pixels, options_.max_input_pixels);
    if (!plan.error.empty()) {
        result.status = 422;
        result.message = plan.error;
        return result;
    }
    if (plan.width != photo.width || plan.height != photo.height)
        photo = animegan::resize_image(photo, plan.width, plan.height);
    photo = apply_orientation(photo, orientation);  // after the downscale: fewer pixels to move

    const animegan::Generator& generator = worker.generators.at(job.model);
    animegan::RunOptions run;
    run.memory_limit =
        (options_.memory_limit ? options_.memory_limit : animegan::default_memory_limit()) / workers_.size();
    try {
        generator.plan(photo.width, photo.height, run);
    } catch (const animegan::Error& e) {
        result.status = 422;
        result.message = std::string("This picture is too large for the server's memory (") + e.what() +
                         "); try a smaller size.";
        return result;
    }
    animegan::Image out;
    if (job.face_pass && worker.detector) {
        animegan::FacePassOptions face_options;
        face_options.run = run;
        animegan::FacePassReport report;
        out =
            animegan::stylize_with_faces(generator, nullptr, *worker.detector, photo, face_options, &report);
        result.faces = int(report.blended.size());
    } else {
        out = generator.stylize(photo, run);
    }
    photo = {};
    const std::vector<uint8_t> encoded = animegan::encode_image(out, job.format, job.jpeg_quality);
    result.encoded.assign(encoded.begin(), encoded.end());
    result.width = out.width;
    result.height = out.height;
    return result;
}

}  // namespace server

// Counters for /metrics, in the Prometheus text format: requests by route and status, refused connections,
// the job queue, and latency histograms. Thread-safe; the few label values are fixed (routes are named by
// the server, never taken from the request), so the number of series stays bounded.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace server {

class Histogram {
  public:
    static constexpr std::array<double, 12> kBounds = {0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120};
    void observe(double seconds);
    // Appends the _bucket, _sum and _count lines of `name` with the given label set (without braces).
    void write(std::string& out, const std::string& name, const std::string& labels) const;

  private:
    std::array<uint64_t, kBounds.size()> buckets_{};  // cumulative counts are computed when written
    uint64_t count_ = 0;
    double sum_ = 0;
};

struct QueueGauges {
    int queued = 0, capacity = 0, busy = 0, workers = 0;
};

class Metrics {
  public:
    void count_request(const std::string& route, int status, double seconds);
    void count_refused_connection();
    void observe_processing(const std::string& style, double seconds, double megapixels);
    // Mean seconds per megapixel of the last jobs of this style (0 before the first), for the page's
    // progress.
    double seconds_per_megapixel(const std::string& style) const;

    // The whole exposition; `gauges` and `resident_bytes` are read at the time of the scrape.
    std::string render(const QueueGauges& gauges) const;

  private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, uint64_t> requests_;  // (route, status) -> count
    std::map<std::string, Histogram> request_seconds_;          // by route
    std::map<std::string, Histogram> processing_seconds_;       // by style
    std::map<std::string, double> seconds_per_megapixel_;       // moving average by style
    uint64_t refused_connections_ = 0;
};

// Resident and peak resident memory of this process (Linux /proc), 0 where unknown.
uint64_t resident_bytes();
uint64_t peak_resident_bytes();

}  // namespace server

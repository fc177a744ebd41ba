#include "metrics.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace server {
namespace {

std::string number(double v) {
    char text[64];
    std::snprintf(text, sizeof text, "%.9g", v);
    return text;
}

// Label values here come from the server's own names, but a style comes from a file name: escape it anyway.
std::string label_value(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

uint64_t status_kib(const char* key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::string prefix = std::string(key) + ":";
    while (std::getline(in, line)) {
        if (line.compare(0, prefix.size(), prefix) == 0)
            return std::stoull(line.substr(prefix.size())) * 1024;
    }
    return 0;
}

}  // namespace

void Histogram::observe(double seconds) {
    for (size_t i = 0; i < kBounds.size(); ++i) {
        if (seconds <= kBounds[i]) {
            ++buckets_[i];
            break;
        }
    }
    ++count_;
    sum_ += seconds;
}

void Histogram::write(std::string& out, const std::string& name, const std::string& labels) const {
    const std::string sep = labels.empty() ? "" : ",";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBounds.size(); ++i) {
        cumulative += buckets_[i];
        out += name + "_bucket{" + labels + sep + "le=\"" + number(kBounds[i]) + "\"} " +
               std::to_string(cumulative) + "\n";
    }
    out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(count_) + "\n";
    const std::string braces = labels.empty() ? "" : "{" + labels + "}";
    out += name + "_sum" + braces + " " + number(sum_) + "\n";
    out += name + "_count" + braces + " " + std::to_string(count_) + "\n";
}

void Metrics::count_request(const std::string& route, int status, double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_[{route, status}];
    request_seconds_[route].observe(seconds);
}

void Metrics::count_refused_connection() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++refused_connections_;
}

void Metrics::observe_processing(const std::string& style, double seconds, double megapixels) {
    std::lock_guard<std::mutex> lock(mutex_);
    processing_seconds_[style].observe(seconds);
    if (megapixels > 0.01) {
        double& avg = seconds_per_megapixel_[style];
        const double sample = seconds / megapixels;
        avg = avg == 0 ? sample : 0.7 * avg + 0.3 * sample;
    }
}

double Metrics::seconds_per_megapixel(const std::string& style) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = seconds_per_megapixel_.find(style);
    return it == seconds_per_megapixel_.end() ? 0 : it->second;
}

std::string Metrics::render(const QueueGauges& gauges) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    out += "# HELP animegan_http_requests_total HTTP responses sent, by route and status code.\n";
    out += "# TYPE animegan_http_requests_total counter\n";
    for (const auto& [key, count] : requests_) {
        out += "animegan_http_requests_total{route=\"" + label_value(key.first) + "\",code=\"" +
               std::to_string(key.second) + "\"} " + std::to_string(count) + "\n";
    }
    out += "# HELP animegan_http_errors_total HTTP responses with a 4xx or 5xx status, by status code.\n";
    out += "# TYPE animegan_http_errors_total counter\n";
    std::map<int, uint64_t> errors;
    for (const auto& [key, count] : requests_)
        if (key.second >= 400) errors[key.second] += count;
    for (const auto& [code, count] : errors)
        out += "animegan_http_errors_total{code=\"" + std::to_string(code) + "\"} " + std::to_string(count) +
               "\n";
    out +=
        "# HELP animegan_connections_refused_total Connections refused because every connection thread was "
        "busy and the connection queue was full.\n";
    out += "# TYPE animegan_connections_refused_total counter\n";
    out += "animegan_connections_refused_total " + std::to_string(refused_connections_) + "\n";
    out +=
        "# HELP animegan_request_duration_seconds Time from the first byte of a request to its response.\n";
    out += "# TYPE animegan_request_duration_seconds histogram\n";
    for (const auto& [route, h] : request_seconds_)
        h.write(out, "animegan_request_duration_seconds", "route=\"" + label_value(route) + "\"");
    out += "# HELP animegan_stylize_seconds Time a worker spent on one image (decode, stylize, encode).\n";
    out += "# TYPE animegan_stylize_seconds histogram\n";
    for (const auto& [style, h] : processing_seconds_)
        h.write(out, "animegan_stylize_seconds", "style=\"" + label_value(style) + "\"");
    out += "# HELP animegan_queue_length Images waiting for a worker.\n# TYPE animegan_queue_length gauge\n";
    out += "animegan_queue_length " + std::to_string(gauges.queued) + "\n";
    out += "# HELP animegan_queue_capacity Images that may wait before requests get 503.\n";
    out += "# TYPE animegan_queue_capacity gauge\nanimegan_queue_capacity " +
           std::to_string(gauges.capacity) + "\n";
    out += "# HELP animegan_workers Worker threads.\n# TYPE animegan_workers gauge\nanimegan_workers " +
           std::to_string(gauges.workers) + "\n";
    out += "# HELP animegan_workers_busy Workers processing an image.\n# TYPE animegan_workers_busy gauge\n";
    out += "animegan_workers_busy " + std::to_string(gauges.busy) + "\n";
    out += "# HELP process_resident_memory_bytes Resident memory size in bytes.\n";
    out += "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes " +
           std::to_string(resident_bytes()) + "\n";
    out += "# HELP animegan_peak_resident_memory_bytes Largest resident memory size since start.\n";
    out += "# TYPE animegan_peak_resident_memory_bytes gauge\nanimegan_peak_resident_memory_bytes " +
           std::to_string(peak_resident_bytes()) + "\n";
    return out;
}

uint64_t resident_bytes() {
    return status_kib("VmRSS");
}
uint64_t peak_resident_bytes() {
    return status_kib("VmHWM");
}

}  // namespace server

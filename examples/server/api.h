// The routes: the page (GET /), the API (POST /api/v1/stylize, GET /api/v1/models), GET /healthz and
// GET /metrics, and the checks every request passes before its body is read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "http_server.h"
#include "metrics.h"
#include "models.h"
#include "worker_pool.h"

namespace server {

struct ApiConfig {
    size_t max_upload_bytes = 0;
    int default_size = 1024;  // longer side an image is stylized at when the request does not say
    std::vector<int> sizes;   // offered on the page (0 = as uploaded)
    int64_t max_pixels = 0;
    int64_t max_input_pixels = 0;
    size_t default_model = 0;
    bool access_log = true;
};

// Registers every route and handler on `server`. Everything passed must outlive it.
void install_api(GuardedServer& server, const ModelDirectory& models, WorkerPool& pool, Metrics& metrics,
                 const ApiConfig& config);

}  // namespace server

#include "api.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "image_sniff.h"
#include "page_html.h"

namespace server {
namespace {

using nlohmann::json;

constexpr const char* kStylize = "/api/v1/stylize";
constexpr const char* kModels = "/api/v1/models";

// The fixed route names (also the metrics label): an unknown path is "other", never the path itself.
std::string route_of(const std::string& path) {
    for (const char* route : {"/", kStylize, kModels, "/healthz", "/metrics"})
        if (path == route) return route;
    return "other";
}

struct StylizeRequest {
    Job job;
    std::string error;  // a bad query parameter, in plain words
};

std::optional<int> parse_int(const std::string& text, int lo, int hi) {
    if (text.empty() || text.size() > 9) return std::nullopt;
    char* end = nullptr;
    const long v = std::strtol(text.c_str(), &end, 10);
    if (*end || v < lo || v > hi) return std::nullopt;
    return int(v);
}

class Api {
  public:
    Api(GuardedServer& server, const ModelDirectory& models, WorkerPool& pool, Metrics& metrics,
        const ApiConfig& config)
        : server_(server), models_(models), pool_(pool), metrics_(metrics), config_(config) {}

    void install(const std::shared_ptr<Api>& self);

  private:
    StylizeRequest parse_stylize(const httplib::Request& req) const;
    bool reject_early(const httplib::Request& req, httplib::Response& res) const;
    void stylize(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
    void read_failed(httplib::Response& res, bool too_large, bool multipart) const;
    void busy(httplib::Response& res, const std::string& message) const;
    json models_json() const;
    void log(const httplib::Request& req, const httplib::Response& res) const;

    GuardedServer& server_;
    const ModelDirectory& models_;
    WorkerPool& pool_;
    Metrics& metrics_;
    ApiConfig config_;
};

void set_error(httplib::Response& res, int status, const std::string& message) {
    res.status = status;
    res.set_content(error_json(status, message), "application/json");
}

const char* default_message(int status) {
    switch (status) {
        case 400:
            return "The request is malformed.";
        case 404:
            return "There is nothing at this address.";
        case 405:
            return "This address does not take that method.";
        case 408:
            return "The request arrived too slowly.";
        case 411:
            return "The request needs a Content-Length header (or chunked transfer encoding).";
        case 413:
            return "The upload is too large.";
        case 414:
            return "The address is too long.";
        case 415:
            return "The request uses a content encoding this server does not accept.";
        case 416:
            return "The requested range is invalid.";
        case 503:
            return "The server is busy; try again in a few seconds.";
    }
    return status >= 500 ? "The server failed to answer this request." : "The request was refused.";
}

std::string size_text(size_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MB", double(bytes) / 1e6);
    return text;
}

StylizeRequest Api::parse_stylize(const httplib::Request& req) const {
    StylizeRequest r;
    r.job.model = config_.default_model;
    r.job.max_side = config_.default_size;
    for (const auto& [key, value] : req.params) {
        if (key == "style") {
            const auto it = std::find_if(models_.generators.begin(), models_.generators.end(),
                                         [&](const GeneratorFile& g) { return g.id == value; });
            if (it == models_.generators.end()) {
                r.error = "There is no style '" + value + "' here; GET /api/v1/models lists the styles.";
                return r;
            }
            r.job.model = size_t(it - models_.generators.begin());
        } else if (key == "face") {
            if (value == "1" || value == "true" || value == "on") {
                r.job.face_pass = true;
            } else if (value == "0" || value == "false" || value == "off" || value.empty()) {
                r.job.face_pass = false;
            } else {
                r.error = "face must be 1 or 0, not '" + value + "'.";
                return r;
            }
        } else if (key == "size") {
            const std::optional<int> side =
                value == "original" ? std::optional<int>(0) : parse_int(value, 0, 16384);
            if (!side) {
                r.error =
                    "size must be the longer side in pixels (0 or 'original' for the picture's own size), "
                    "not '" +
                    value + "'.";
                return r;
            }
            r.job.max_side = *side;
        } else if (key == "format") {
            if (value != "png" && value != "jpeg" && value != "jpg") {
                r.error = "format must be png or jpeg, not '" + value + "'.";
                return r;
            }
            r.job.format = value == "png" ? "png" : "jpeg";
        } else if (key == "quality") {
            const std::optional<int> q = parse_int(value, 1, 100);
            if (!q) {
                r.error = "quality must be a whole number from 1 to 100, not '" + value + "'.";
                return r;
            }
            r.job.jpeg_quality = *q;
        } else {
            r.error =
                "Unknown parameter '" + key + "'; the parameters are style, face, size, format and quality.";
            return r;
        }
    }
    if (r.job.face_pass && models_.detector_path.empty())
        r.error = "This server has no face detector, so the face pass is off; leave out face=1.";
    return r;
}

void Api::busy(httplib::Response& res, const std::string& message) const {
    set_error(res, 503, message);
    res.set_header("Retry-After", std::to_string(pool_.estimated_wait_seconds()));
}

// Everything that can be decided from the request line and headers, before the body is read (and, for a
// client that sent "Expect: 100-continue", before it is even sent). True when `res` holds the refusal. A full
// queue is not among them: a bad upload gets its 4xx whatever the load, only a good one can get 503.
bool Api::reject_early(const httplib::Request& req, httplib::Response& res) const {
    const std::string route = route_of(req.path);
    const bool is_get = req.method == "GET" || req.method == "HEAD";
    if (route == "other") {
        set_error(res, 404, "There is nothing at " + req.path.substr(0, 200) + ".");
        return true;
    }
    if (route == kStylize ? req.method != "POST" : !is_get) {
        set_error(res, 405,
                  route + " takes " + (route == kStylize ? "POST" : "GET") + ", not " + req.method + ".");
        res.set_header("Allow", route == kStylize ? "POST" : "GET, HEAD");
        return true;
    }
    if (route != kStylize) return false;
    if (server_.shutting_down()) {
        busy(res, "The server is shutting down.");
        return true;
    }
    const StylizeRequest parsed = parse_stylize(req);
    if (!parsed.error.empty()) {
        set_error(res, 400, parsed.error);
        return true;
    }
    const bool chunked = req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
    if (!chunked) {
        if (!req.has_header("Content-Length")) {
            set_error(res, 411, "Send the picture as the request body with a Content-Length header.");
            return true;
        }
        const std::string length = req.get_header_value("Content-Length");
        char* end = nullptr;
        const unsigned long long n = std::strtoull(length.c_str(), &end, 10);
        if (length.empty() || *end || length[0] == '-') {
            set_error(res, 400, "The Content-Length header is not a number.");
            return true;
        }
        if (n > config_.max_upload_bytes) {
            set_error(res, 413,
                      "The upload is " + size_text(n) + "; this server accepts at most " +
                          size_text(config_.max_upload_bytes) + ".");
            return true;
        }
        if (n == 0) {
            set_error(res, 400, "The request has no picture in it.");
            return true;
        }
    }
    return false;
}

void Api::read_failed(httplib::Response& res, bool too_large, bool multipart) const {
    ConnectionState* conn = current_connection();
    if (too_large || (conn && conn->budget_exceeded)) {
        set_error(
            res, 413,
            "The upload is larger than the " + size_text(config_.max_upload_bytes) + " this server accepts.");
    } else if (res.status == 415) {
        set_error(res, 415, "The upload uses a content encoding this server does not accept.");
    } else if (conn && conn->deadline_expired) {
        set_error(res, 408, "The upload arrived too slowly; the server stopped waiting for it.");
    } else if (conn && conn->peer_closed) {
        set_error(res, 400,
                  "The upload was cut short: the connection closed before the whole picture arrived.");
    } else {
        set_error(res, 400,
                  multipart ? "The multipart form data is malformed or incomplete."
                            : "The request body is malformed or incomplete.");
    }
}

void Api::stylize(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    StylizeRequest parsed = parse_stylize(req);  // checked by reject_early; parsed again for the job
    Job& job = parsed.job;
    std::string& body = job.upload;
    const size_t limit = config_.max_upload_bytes;
    bool too_large = false, ok = false;
    const bool multipart = req.is_multipart_form_data();
    if (multipart) {
        // The picture is the part named "image", or else the first part that carries a file name.
        bool taking = false, taken = false;
        size_t total = 0;
        ok = reader(
            [&](const httplib::MultipartFormData& part) {
                taking = !taken && (part.name == "image" || !part.filename.empty());
                taken = taken || taking;
                return true;
            },
            [&](const char* data, size_t n) {
                total += n;
                if (total > limit) return !(too_large = true);
                if (taking) body.append(data, n);
                return true;
            });
    } else {
        ok = reader([&](const char* data, size_t n) {
            if (body.size() + n > limit) return !(too_large = true);
            body.append(data, n);
            return true;
        });
    }
    if (!ok) {
        if (ConnectionState* conn = current_connection()) conn->close_after_response = true;
        read_failed(res, too_large, multipart);
        return;
    }
    if (body.empty()) {
        set_error(res, 400, multipart ? "The form has no file in it." : "The request has no picture in it.");
        return;
    }
    const SniffedImage sniffed = sniff_image(reinterpret_cast<const uint8_t*>(body.data()), body.size());
    if (!sniffed.decodable) {
        set_error(res, 415,
                  sniffed.type == ImageType::Unknown
                      ? "This file is not a picture this server can read. Please send a JPEG, PNG or BMP."
                      : std::string(image_type_name(sniffed.type)) +
                            " pictures are not supported. Please send a JPEG, PNG or BMP (phones can "
                            "save photos as JPEG).");
        return;
    }
    if (sniffed.width <= 0 || sniffed.height <= 0) {
        set_error(res, 422,
                  std::string("The ") + image_type_name(sniffed.type) +
                      " file is damaged or incomplete: its size cannot be read.");
        return;
    }
    const SizePlan plan =
        plan_size(sniffed.width, sniffed.height, job.max_side, config_.max_pixels, config_.max_input_pixels);
    if (!plan.error.empty()) {
        set_error(res, 422, plan.error);
        return;
    }
    const std::string style_id = models_.generators[job.model].id;
    const std::string format = job.format;
    std::future<JobResult> pending;
    if (!pool_.submit(job, pending)) {
        busy(res, server_.shutting_down()
                      ? "The server is shutting down."
                      : "The server is busy with other pictures; please try again in a few "
                        "seconds.");
        return;
    }
    body = std::string();
    JobResult result = pending.get();
    if (result.status != 200) {
        set_error(res, result.status, result.message);
        return;
    }
    res.status = 200;
    res.body = std::move(result.encoded);
    res.set_header("Content-Type", format == "png" ? "image/png" : "image/jpeg");
    res.set_header("Content-Disposition",
                   "inline; filename=\"" + style_id + (format == "png" ? ".png\"" : ".jpg\""));
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Image-Width", std::to_string(result.width));
    res.set_header("X-Image-Height", std::to_string(result.height));
    res.set_header("X-Style", style_id);
    res.set_header("X-Faces", std::to_string(result.faces));
    char timing[96];
    std::snprintf(timing, sizeof timing, "queue;dur=%.0f, stylize;dur=%.0f", result.queue_ms, result.work_ms);
    res.set_header("Server-Timing", timing);
}

json Api::models_json() const {
    json models = json::array();
    for (size_t i = 0; i < models_.generators.size(); ++i) {
        const GeneratorFile& g = models_.generators[i];
        models.push_back({{"id", g.id},
                          {"style", g.style},
                          {"default", i == config_.default_model},
                          {"seconds_per_megapixel", metrics_.seconds_per_megapixel(g.id)}});
    }
    return {
        {"models", models},
        {"face_pass", {{"available", !models_.detector_path.empty()}, {"detector", models_.detector_name}}},
        {"sizes", config_.sizes},
        {"default_size", config_.default_size},
        {"formats", {"png", "jpeg"}},
        {"limits",
         {{"max_upload_bytes", config_.max_upload_bytes},
          {"max_pixels", config_.max_pixels},
          {"max_input_pixels", config_.max_input_pixels}}}};
}

void Api::log(const httplib::Request& req, const httplib::Response& res) const {
    ConnectionState* conn = current_connection();
    const double seconds =
        conn ? std::chrono::duration<double>(std::chrono::steady_clock::now() - conn->request_start).count()
             : 0;
    metrics_.count_request(route_of(req.path), res.status, seconds);
    if (config_.access_log) {
        std::fprintf(stderr, "%s %s %s %d %.0f ms %zu B\n", req.remote_addr.c_str(), req.method.c_str(),
                     route_of(req.path) == "other" ? "(other)" : req.path.c_str(), res.status, seconds * 1000,
                     res.body.size());
    }
}

void Api::install(const std::shared_ptr<Api>& self) {
    server_.set_pre_routing_handler([self](const httplib::Request& req, httplib::Response& res) {
        return self->reject_early(req, res) ? httplib::Server::HandlerResponse::Handled
                                            : httplib::Server::HandlerResponse::Unhandled;
    });
    server_.set_expect_100_continue_handler([self](const httplib::Request& req, httplib::Response& res) {
        return self->reject_early(req, res) ? res.status : 100;
    });
    // Every 4xx/5xx leaves with a JSON body and closes the connection (its body may be unread).
    server_.set_error_handler(
        httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
            ConnectionState* conn = current_connection();
            if (conn && conn->deadline_expired && res.status == 400)
                set_error(res, 408, "The request arrived too slowly; the server stopped waiting for it.");
            if (res.body.empty()) set_error(res, res.status, default_message(res.status));
            if (conn) conn->close_after_response = true;
            res.set_header("Connection", "close");
            return httplib::Server::HandlerResponse::Handled;
        }));
    server_.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
            std::string what = "unknown error";
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            set_error(res, 500, "The server failed: " + what);
        });
    server_.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
        res.set_header("X-Content-Type-Options", "nosniff");
        res.set_header("Referrer-Policy", "no-referrer");
        ConnectionState* conn = current_connection();
        if (conn && conn->close_after_response && !res.has_header("Connection"))
            res.set_header("Connection", "close");
    });
    server_.set_logger(
        [self](const httplib::Request& req, const httplib::Response& res) { self->log(req, res); });
    server_.on_raw_response = [self](int status) {
        self->metrics_.count_request("other", status, 0);
        if (status == 503) self->metrics_.count_refused_connection();
    };

    server_.Get("/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(kPageHtml, sizeof kPageHtml - 1, "text/html; charset=utf-8");
        // Everything the page needs is in it: no other origin is ever contacted.
        res.set_header("Content-Security-Policy",
                       "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                       "img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'none'");
        res.set_header("Cache-Control", "no-cache");
    });
    server_.Get(kModels, [self](const httplib::Request&, httplib::Response& res) {
        res.set_content(self->models_json().dump(), "application/json");
    });
    server_.Get("/healthz", [self](const httplib::Request&, httplib::Response& res) {
        const QueueGauges q = self->pool_.gauges();
        if (self->server_.shutting_down()) {
            res.status = 503;
            res.set_content(json{{"status", "shutting down"}}.dump(), "application/json");
            return;
        }
        res.set_content(
            json{{"status", "ok"}, {"workers", q.workers}, {"busy", q.busy}, {"queued", q.queued}}.dump(),
            "application/json");
    });
    server_.Get("/metrics", [self](const httplib::Request&, httplib::Response& res) {
        res.set_content(self->metrics_.render(self->pool_.gauges()),
                        "text/plain; version=0.0.4; charset=utf-8");
    });
    server_.Post(kStylize, [self](const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader& reader) { self->stylize(req, res, reader); });
}

}  // namespace

void install_api(GuardedServer& server, const ModelDirectory& models, WorkerPool& pool, Metrics& metrics,
                 const ApiConfig& config) {
    // Every route holds the Api, so it lives as long as the server's handlers.
    const auto api = std::make_shared<Api>(server, models, pool, metrics, config);
    api->install(api);
}

}  // namespace server

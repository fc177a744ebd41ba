// animegan2-server: a web page and an HTTP API that stylize photos with the generators in a models directory.
// Runs on the local machine by default (127.0.0.1); keeps nothing on disk and nothing between requests.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "animegan/animegan.h"
#include "api.h"
#include "command_line.h"
#include "http_server.h"
#include "metrics.h"
#include "models.h"
#include "worker_pool.h"

namespace {

const char* kUsage =
    "usage: animegan2-server --models DIR [options]\n"
    "\n"
    "Serves a page (drop a photo, get the anime version) and an HTTP API for every AnimeGANv2 generator\n"
    "(.gguf made by animegan-convert) in DIR; a BlazeFace detector .gguf in DIR enables the face pass.\n"
    "\n"
    "options:\n"
    "  --models DIR            the models directory (required)\n"
    "  --host ADDR             address to listen on (default 127.0.0.1: this machine only)\n"
    "  --port N                port (default 8080; 0 picks a free one)\n"
    "  --workers N             images stylized at once (default 1)\n"
    "  --threads N             compute threads per worker (default: the cores shared out among the workers)\n"
    "  --queue N               images that may wait for a worker before requests get 503 (default 4)\n"
    "  --connections N         connections served at once (default 16; more wait in a queue of 64)\n"
    "  --max-upload MB         largest upload (default 25)\n"
    "  --max-input-pixels N    largest picture decoded, in pixels (default 50000000)\n"
    "  --max-pixels N          largest picture stylized, after the size choice (default 2359296 = "
    "1536x1536)\n"
    "  --memory-limit SIZE     memory the workers' runs may hold together, e.g. 4G (default: half the\n"
    "                          machine's); a picture that does not fit whole streams in bands of rows\n"
    "  --max-side N            longer side a picture is stylized at when the request does not say (default "
    "1024)\n"
    "  --style ID              style used when the request does not say (default: the first by name)\n"
    "  --request-timeout S     a request (headers and upload) must arrive within S seconds (default 60)\n"
    "  -q, --quiet             no access log on stderr\n"
    "  -h, --help              this text\n"
    "\n"
    "SIGTERM or SIGINT: stop accepting, finish the requests in flight, exit 0.\n";

using command_line::parse_whole;
using command_line::usage_error;

}  // namespace

int main(int argc, char** argv) {
    command_line::program = "animegan2-server";
    std::string models_dir, host = "127.0.0.1", default_style;
    int port = 8080;
    server::WorkerPoolOptions pool_options;
    pool_options.max_pixels = 1536 * 1536;
    pool_options.max_input_pixels = 50'000'000;
    server::ConnectionLimits limits;
    limits.request_timeout = std::chrono::seconds(60);
    server::ApiConfig api;
    api.max_upload_bytes = 25'000'000;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_error(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (arg == "--models") {
            models_dir = value();
        } else if (arg == "--host") {
            host = value();
        } else if (arg == "--port") {
            port = int(parse_whole(arg, value(), 0, 65535));
        } else if (arg == "--workers") {
            pool_options.workers = int(parse_whole(arg, value(), 1, 256));
        } else if (arg == "--threads") {
            pool_options.threads_per_worker = int(parse_whole(arg, value(), 1, 1024));
        } else if (arg == "--queue") {
            pool_options.queue_capacity = int(parse_whole(arg, value(), 0, 10000));
        } else if (arg == "--connections") {
            limits.threads = int(parse_whole(arg, value(), 2, 4096));
        } else if (arg == "--max-upload") {
            api.max_upload_bytes = size_t(parse_whole(arg, value(), 1, 1024)) * 1'000'000;
        } else if (arg == "--max-input-pixels") {
            pool_options.max_input_pixels = parse_whole(arg, value(), 64, animegan::kMaxImagePixels);
        } else if (arg == "--max-pixels") {
            pool_options.max_pixels = parse_whole(arg, value(), 64, animegan::kMaxInputPixels);
        } else if (arg == "--memory-limit") {
            pool_options.memory_limit = command_line::parse_size(arg, value());
        } else if (arg == "--max-side") {
            api.default_size = int(parse_whole(arg, value(), 0, 16384));
        } else if (arg == "--style") {
            default_style = value();
        } else if (arg == "--request-timeout") {
            limits.request_timeout = std::chrono::seconds(parse_whole(arg, value(), 1, 3600));
        } else if (arg == "-q" || arg == "--quiet") {
            api.access_log = false;
        } else {
            usage_error("unknown option '" + arg + "'");
        }
    }
    if (models_dir.empty()) usage_error("--models DIR is required");
    limits.pending = std::max(64, limits.threads * 4);
    // Chunked framing and multipart headers come on top of the picture itself.
    limits.body_bytes = api.max_upload_bytes + api.max_upload_bytes / 8 + (64 << 10);
    api.max_pixels = pool_options.max_pixels;
    api.max_input_pixels = pool_options.max_input_pixels;
    api.sizes = {512, 1024, 1536, 0};

    // SIGTERM and SIGINT are taken by one thread (sigwait), so they must be blocked in every thread: block
    // them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGUSR1);  // wakes the signal thread when the server stops on its own
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    try {
        const server::ModelDirectory models = server::scan_model_directory(models_dir);
        for (const std::string& skipped : models.skipped)
            std::fprintf(stderr, "animegan2-server: skipping %s\n", skipped.c_str());
        api.default_model = 0;
        if (!default_style.empty()) {
            const auto it =
                std::find_if(models.generators.begin(), models.generators.end(),
                             [&](const server::GeneratorFile& g) { return g.id == default_style; });
            if (it == models.generators.end())
                usage_error("--style: no model '" + default_style + "' in " + models_dir);
            api.default_model = size_t(it - models.generators.begin());
        }

        server::Metrics metrics;
        server::WorkerPool pool(models, pool_options, metrics);
        server::GuardedServer http(limits);
        server::install_api(http, models, pool, metrics, api);
        const int bound =
            port == 0 ? http.bind_to_any_port(host) : (http.bind_to_port(host, port) ? port : -1);
        if (bound < 0) {
            std::fprintf(stderr, "animegan2-server: cannot listen on %s port %d\n", host.c_str(), port);
            return 1;
        }
        for (const server::GeneratorFile& g : models.generators)
            std::fprintf(stderr, "animegan2-server: style %s \"%s\"\n", g.id.c_str(), g.style.c_str());
        std::fprintf(stderr, "animegan2-server: face pass %s\n",
                     models.detector_path.empty() ? "off (no face detector in the models directory)"
                                                  : ("on (" + models.detector_name + ")").c_str());
        std::fprintf(stderr, "animegan2-server: %d worker(s) x %d thread(s), queue %d, kernels %s\n",
                     pool_options.workers, pool.threads_per_worker(), pool_options.queue_capacity,
                     animegan::kernels_isa());
        const std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
        std::printf("animegan2-server: listening on http://%s:%d/\n", shown_host.c_str(), bound);
        std::fflush(stdout);

        std::atomic<bool> listening_done{false};
        std::thread signal_thread([&] {
            int sig = 0;
            sigwait(&signals, &sig);
            if (sig == SIGUSR1) return;  // the server stopped on its own
            std::fprintf(stderr, "animegan2-server: %s: finishing the requests in flight\n",
                         sig == SIGTERM ? "SIGTERM" : "SIGINT");
            // A signal that came before listening began finds nothing to stop yet: try until it took.
            while (!listening_done) {
                http.begin_shutdown();
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        });
        http.listen_after_bind();  // returns when begin_shutdown() stopped it, or the socket failed
        listening_done = true;
        const bool signalled = http.shutting_down();
        if (!signalled) pthread_kill(signal_thread.native_handle(), SIGUSR1);
        signal_thread.join();
        pool.shutdown();
        if (!signalled) {
            std::fprintf(stderr, "animegan2-server: the listening socket failed\n");
            return 1;
        }
        std::fprintf(stderr, "animegan2-server: stopped\n");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "animegan2-server: %s\n", e.what());
        return 1;
    }
}

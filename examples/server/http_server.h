// An httplib::Server that a slow or hostile client cannot tie up: every connection is read through a stream
// with a whole-request deadline and a byte budget (httplib alone only limits each single read, so a sender
// trickling a byte every few seconds would hold a thread forever, and a chunked body has no size limit),
// connections wait in a bounded queue for a fixed set of threads, and shutdown stops accepting, finishes the
// requests in flight and closes idle keep-alive connections.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace server {

struct ConnectionLimits {
    int threads = 16;  // connections served at once
    int pending = 64;  // accepted connections waiting for a thread
    std::chrono::milliseconds request_timeout{
        30'000};                                     // whole request (headers and body) must arrive in this
    std::chrono::milliseconds idle_timeout{10'000};  // longest silence while a request is being read
    std::chrono::milliseconds response_timeout{60'000};  // whole response must be taken by the client in this
    std::chrono::milliseconds keep_alive_timeout{5'000};  // idle connection between requests
    int keep_alive_max = 32;                              // requests per connection
    size_t header_bytes = 64 * 1024;                      // request line and headers
    size_t body_bytes = 0;  // largest body as sent (chunk framing included); beyond it reads fail
};

// What happened on the connection of the request being handled, for the handlers on its thread.
struct ConnectionState {
    std::chrono::steady_clock::time_point request_start;
    size_t bytes_read = 0;
    bool deadline_expired = false;      // the client took longer than request_timeout or idle_timeout
    bool budget_exceeded = false;       // the client sent more than header_bytes + body_bytes
    bool peer_closed = false;           // the client closed its side (truncated upload)
    bool close_after_response = false;  // the body may be unread: this response is the connection's last
};

// The JSON body of every error response: {"error": {"status": 413, "message": "..."}}.
std::string error_json(int status, const std::string& message);

// The state of the request served on this thread; null outside a connection thread.
ConnectionState* current_connection();

class GuardedServer : public httplib::Server {
  public:
    explicit GuardedServer(const ConnectionLimits& limits);

    // Stops accepting and makes idle keep-alive connections close; listen() returns once the connections
    // in flight are done. Safe to call again (it must be, if the first call came before listening began).
    void begin_shutdown();
    bool shutting_down() const { return shutting_down_.load(); }

    // Called for the responses the server writes itself, outside httplib: 503 when a connection is refused
    // because every thread is busy and the queue is full, 408 when a request line arrives too slowly.
    std::function<void(int status)> on_raw_response;

  private:
    bool process_and_close_socket(socket_t sock) override;
    void serve_connection(socket_t sock);
    bool wait_for_next_request(socket_t sock) const;

    ConnectionLimits limits_;
    std::atomic<bool> shutting_down_{false};
    std::atomic<bool> stopped_{false};
};

}  // namespace server

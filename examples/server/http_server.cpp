#include "http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

namespace server {
namespace {

using Clock = std::chrono::steady_clock;

thread_local ConnectionState* t_connection = nullptr;
// Set while the accept thread itself runs a connection it could not queue: that one is only refused.
thread_local bool t_refuse_connection = false;

int millis_until(Clock::time_point deadline, std::chrono::milliseconds cap) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return int(std::max<int64_t>(0, std::min<int64_t>(left.count() + 1, cap.count())));
}

// poll() for one event, retried on EINTR; true when the event (or an error / hangup, which the following
// recv or send reports) arrived before `deadline`.
bool wait_for(int sock, short events, Clock::time_point deadline, std::chrono::milliseconds idle) {
    const Clock::time_point idle_end = Clock::now() + idle;
    for (;;) {
        const Clock::time_point end = std::min(deadline, idle_end);
        if (Clock::now() >= end) return false;
        pollfd p{sock, events, 0};
        const int r = ::poll(&p, 1, millis_until(end, idle));
        if (r > 0) return true;
        if (r < 0 && errno != EINTR) return false;
    }
}

void ip_and_port(const sockaddr_storage& addr, std::string& ip, int& port) {
    char text[INET6_ADDRSTRLEN] = "";
    if (addr.ss_family == AF_INET) {
        const auto& a = reinterpret_cast<const sockaddr_in&>(addr);
        inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
        port = ntohs(a.sin_port);
    } else if (addr.ss_family == AF_INET6) {
        const auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
        inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof text);
        port = ntohs(a.sin6_port);
    }
    ip = text;
}

// The socket as httplib reads and writes it, with the limits of ConnectionLimits. Reads are buffered
// because httplib reads request lines one byte at a time.
class DeadlineStream : public httplib::Stream {
  public:
    DeadlineStream(int sock, const ConnectionLimits& limits, ConnectionState& state)
        : sock_(sock),
          limits_(limits),
          state_(state),
          read_deadline_(Clock::now() + limits.request_timeout),
          budget_(limits.header_bytes + limits.body_bytes) {}

    bool is_readable() const override { return buffered_ > 0 || wait_readable(); }
    bool is_writable() const override { return wait_writable(); }

    ssize_t read(char* ptr, size_t size) override {
        if (buffered_ == 0) {
            if (!wait_readable()) return -1;
            if (state_.bytes_read >= budget_) {
                state_.budget_exceeded = true;
                return -1;
            }
            const size_t want = std::min(sizeof buffer_, budget_ - state_.bytes_read);
            ssize_t n;
            do n = ::recv(sock_, buffer_, want, 0);
            while (n < 0 && errno == EINTR);
            if (n == 0) state_.peer_closed = true;
            if (n <= 0) return n;
            state_.bytes_read += size_t(n);
            offset_ = 0;
            buffered_ = size_t(n);
        }
        const size_t n = std::min(size, buffered_);
        std::memcpy(ptr, buffer_ + offset_, n);
        offset_ += n;
        buffered_ -= n;
        return ssize_t(n);
    }

    ssize_t write(const char* ptr, size_t size) override {
        if (!wait_writable()) return -1;
        ssize_t n;
        do n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        return n;
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) ip_and_port(addr, ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) ip_and_port(addr, ip, port);
    }
    socket_t socket() const override { return sock_; }

  private:
    bool wait_readable() const {
        if (wait_for(sock_, POLLIN, read_deadline_, limits_.idle_timeout)) return true;
        state_.deadline_expired = true;
        return false;
    }
    bool wait_writable() const {
        if (!write_started_) {
            write_deadline_ = Clock::now() + limits_.response_timeout;
            write_started_ = true;
        }
        return wait_for(sock_, POLLOUT, write_deadline_, limits_.idle_timeout);
    }

    int sock_;
    const ConnectionLimits& limits_;
    ConnectionState& state_;
    Clock::time_point read_deadline_;
    mutable Clock::time_point write_deadline_;
    mutable bool write_started_ = false;
    size_t budget_;
    char buffer_[16 * 1024];
    size_t offset_ = 0, buffered_ = 0;
};

// A fixed set of threads taking accepted connections from a bounded queue. httplib's own pool queues without
// limit; here a connection that finds the queue full is refused at once on the accepting thread.
class ConnectionQueue : public httplib::TaskQueue {
  public:
    ConnectionQueue(int threads, int pending) : pending_max_(size_t(std::max(0, pending))) {
        for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { run(); });
    }

    void enqueue(std::function<void()> fn) override {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (idle_ > jobs_.size() || jobs_.size() < pending_max_) {
                jobs_.push_back(std::move(fn));
                cv_.notify_one();
                return;
            }
        }
        t_refuse_connection = true;
        fn();
        t_refuse_connection = false;
    }

    void shutdown() override {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_all();
        for (std::thread& t : threads_) t.join();
    }

  private:
    void run() {
        for (;;) {
            std::function<void()> job;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                ++idle_;
                cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
                --idle_;
                if (jobs_.empty()) return;  // stopping, and every queued connection has been served
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
            job();
        }
    }

    const size_t pending_max_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    size_t idle_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

// Sends a complete response without reading the request (the connection is refused), never blocking.
void send_raw_error(int sock, int status, const char* reason, const std::string& message, int retry_after) {
    const std::string body = error_json(status, message);
    std::string head =
        "HTTP/1.1 " + std::to_string(status) + " " + reason +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n";
    if (retry_after > 0) head += "Retry-After: " + std::to_string(retry_after) + "\r\n";
    const std::string all = head + "\r\n" + body;
    (void)!::send(sock, all.data(), all.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

// After a response to a request whose body may be unread, closing at once would make the kernel answer the
// client's remaining bytes with a reset, which can destroy our response before the client reads it. So stop
// sending, and read and drop what still arrives for a short while first.
void close_after_draining(int sock) {
    ::shutdown(sock, SHUT_WR);
    const Clock::time_point end = Clock::now() + std::chrono::seconds(2);
    size_t drained = 0;
    char sink[16 * 1024];
    while (drained < (size_t(8) << 20) && wait_for(sock, POLLIN, end, std::chrono::seconds(2))) {
        const ssize_t n = ::recv(sock, sink, sizeof sink, 0);
        if (n <= 0 && !(n < 0 && errno == EINTR)) break;
        if (n > 0) drained += size_t(n);
    }
    ::close(sock);
}

}  // namespace

std::string error_json(int status, const std::string& message) {
    return nlohmann::json{{"error", {{"status", status}, {"message", message}}}}.dump();
}

ConnectionState* current_connection() {
    return t_connection;
}

GuardedServer::GuardedServer(const ConnectionLimits& limits) : limits_(limits) {
    new_task_queue = [this] { return new ConnectionQueue(limits_.threads, limits_.pending); };
    set_keep_alive_max_count(size_t(std::max(1, limits_.keep_alive_max)));
    set_keep_alive_timeout(std::max<time_t>(1, limits_.keep_alive_timeout.count() / 1000));
    set_payload_max_length(limits_.body_bytes);
}

void GuardedServer::begin_shutdown() {
    shutting_down_ = true;
    if (is_running() && !stopped_.exchange(true)) stop();
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
    if (t_refuse_connection) {
        if (on_raw_response) on_raw_response(503);
        send_raw_error(sock, 503, "Service Unavailable",
                       "The server is too busy; try again in a few seconds.", 5);
        ::shutdown(sock, SHUT_WR);
        ::close(sock);
        return false;
    }
    serve_connection(sock);
    return true;
}

void GuardedServer::serve_connection(socket_t sock) {
    ConnectionState state;
    t_connection = &state;
    bool drain = false;
    for (int served = 0; served < limits_.keep_alive_max; ++served) {
        if (served > 0 && !wait_for_next_request(sock)) break;
        state = ConnectionState{};
        state.request_start = Clock::now();
        DeadlineStream stream(sock, limits_, state);
        const bool last = served + 1 == limits_.keep_alive_max || shutting_down();
        bool client_closes = false;
        const bool ok = process_request(stream, last, client_closes, nullptr);
        if (!ok && state.deadline_expired && state.bytes_read > 0 && !state.close_after_response) {
            // Too slow to send even the request line: nothing was answered yet.
            send_raw_error(sock, 408, "Request Timeout", "The request arrived too slowly.", 0);
            if (on_raw_response) on_raw_response(408);
            drain = true;
            break;
        }
        if (state.close_after_response) drain = true;
        if (!ok || client_closes || last || state.close_after_response) break;
    }
    t_connection = nullptr;
    if (drain) {
        close_after_draining(sock);
    } else {
        ::shutdown(sock, SHUT_RDWR);
        ::close(sock);
    }
}

// Between keep-alive requests: true when the next request starts arriving, false on timeout or shutdown.
bool GuardedServer::wait_for_next_request(socket_t sock) const {
    const Clock::time_point end = Clock::now() + limits_.keep_alive_timeout;
    while (!shutting_down()) {
        if (Clock::now() >= end) return false;
        pollfd p{sock, POLLIN, 0};
        const int r = ::poll(&p, 1, std::min(100, millis_until(end, limits_.keep_alive_timeout)));
        if (r > 0) return true;
        if (r < 0 && errno != EINTR) return false;
    }
    return false;
}

}  // namespace server

#pragma once
// A raw-socket server on 127.0.0.1 or ::1 (port 0) that runs a script per accepted connection, on
// its own thread: tests write exactly the bytes a misbehaving or hostile target would, and see
// exactly what the client did (its request, its close). Joined, and every socket closed, when the
// object goes away.
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace lastcall::testing {

class ServerConnection {
public:
    ServerConnection(int fd, const std::atomic<bool>& stopping) : fd_(fd), stopping_(stopping) {}

    // The next request head (up to the blank line; a Content-Length body is read and dropped);
    // nullopt on EOF, error or timeout.
    std::optional<std::string> read_request(std::chrono::milliseconds timeout = std::chrono::seconds(2));
    bool send(std::string_view bytes);
    // Sends `total` bytes of filler in large writes; false when the client went away first.
    bool send_filler(std::uint64_t total);
    void close_write();  // FIN, keeps reading
    void reset();        // RST, and the descriptor is closed
    // True when the peer closes (EOF or reset) within `timeout`; bytes it sends meanwhile are dropped.
    bool wait_for_close(std::chrono::milliseconds timeout);
    bool stopping() const { return stopping_.load(); }
    int fd() const { return fd_; }

    static std::string path_of(const std::string& request);
    static std::string header_of(const std::string& request, std::string_view name);  // any case
    static std::string chunk(std::string_view text);  // one chunk of a chunked body

private:
    int fd_;
    const std::atomic<bool>& stopping_;
    std::string unread_;
};

class ScriptedServer {
public:
    enum class Family { ipv4, ipv6 };
    // `index`: 0 for the first connection accepted, 1 for the next...
    using Script = std::function<void(ServerConnection& connection, int index)>;

    explicit ScriptedServer(Script script, Family family = Family::ipv4);
    ~ScriptedServer();
    ScriptedServer(const ScriptedServer&) = delete;
    ScriptedServer& operator=(const ScriptedServer&) = delete;

    bool listening() const { return listener_ >= 0; }  // false: the family is not available here
    std::uint16_t port() const { return port_; }
    int accepted() const { return accepted_.load(); }

private:
    void accept_loop();

    Script script_;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<int> accepted_{0};
    std::mutex mutex_;
    std::vector<std::thread> connections_;
    std::thread acceptor_;
};

// Resident set size of this process, from /proc/self/statm.
std::uint64_t resident_bytes();

} // namespace lastcall::testing

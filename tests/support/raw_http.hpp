#pragma once
// A deliberately small blocking HTTP/1.1 client on plain sockets for tests: it reports exactly
// what came over the wire (status, headers, chunked terminator, EOF) without interpreting it.
#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace lastcall::testing {

struct RawResponse {
    int status = 0;                              // 0: no status line arrived
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;                            // de-chunked
    bool complete = false;                       // full body (and, if chunked, the terminator)
    bool chunked = false;
    std::string error;                           // why it is incomplete: eof, reset, timeout
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
};

class RawConnection {
public:
    // nullopt when the connection is refused; errno_value() says why.
    static std::optional<RawConnection> open(unsigned short port);
    RawConnection(RawConnection&& other) noexcept;
    RawConnection& operator=(RawConnection&&) = delete;
    ~RawConnection();

    bool send(const std::string& bytes);
    bool send_get(const std::string& target) { return send(request("GET", target)); }
    bool send_post(const std::string& target) { return send(request("POST", target)); }
    RawResponse read_response(std::chrono::milliseconds timeout);
    // The status line and headers only (the answer to a HEAD request, whose body never comes).
    RawResponse read_response_head(std::chrono::milliseconds timeout);
    // True if the server closes the connection within `timeout` without sending a byte.
    bool closed_without_bytes(std::chrono::milliseconds timeout);

    static std::string request(const std::string& method, const std::string& target);
    static int last_connect_errno();

private:
    explicit RawConnection(int fd) : fd_(fd) {}
    // Appends to buffer_; returns false on EOF, error or timeout (and sets `why`).
    bool fill(std::chrono::steady_clock::time_point deadline, std::string& why);
    bool read_line(std::string& line, std::chrono::steady_clock::time_point deadline, std::string& why);
    bool read_exact(std::size_t n, std::string& out, std::chrono::steady_clock::time_point deadline, std::string& why);
    bool read_head(RawResponse& response, std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    std::string buffer_;
};

// One request on a fresh connection.
RawResponse http_get(unsigned short port, const std::string& target, std::chrono::milliseconds timeout = std::chrono::seconds(5));
RawResponse http_post(unsigned short port, const std::string& target, std::chrono::milliseconds timeout = std::chrono::seconds(5));

} // namespace lastcall::testing

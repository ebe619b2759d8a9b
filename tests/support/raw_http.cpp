#include "raw_http.hpp"

#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

namespace lastcall::testing {

namespace {
thread_local int last_errno = 0;

std::string lower(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}
} // namespace

std::optional<RawConnection> RawConnection::open(unsigned short port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        last_errno = errno;
        ::close(fd);
        return std::nullopt;
    }
    return RawConnection(fd);
}

int RawConnection::last_connect_errno() { return last_errno; }

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}

RawConnection::~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
}

std::string RawConnection::request(const std::string& method, const std::string& target) {
    return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n";
}

bool RawConnection::send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

bool RawConnection::fill(std::chrono::steady_clock::time_point deadline, std::string& why) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd fd{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&fd, 1, static_cast<int>(left.count())) <= 0) {
        why = "timeout";
        return false;
    }
    char chunk[4096];
    const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n == 0) why = "eof";
    if (n < 0) why = errno == ECONNRESET ? "reset" : "error";
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
}

bool RawConnection::read_line(std::string& line, std::chrono::steady_clock::time_point deadline, std::string& why) {
    for (;;) {
        if (const auto end = buffer_.find("\r\n"); end != std::string::npos) {
            line = buffer_.substr(0, end);
            buffer_.erase(0, end + 2);
            return true;
        }
        if (!fill(deadline, why)) return false;
    }
}

bool RawConnection::read_exact(std::size_t n, std::string& out, std::chrono::steady_clock::time_point deadline,
                               std::string& why) {
    while (buffer_.size() < n) {
        if (!fill(deadline, why)) return false;
    }
    out.append(buffer_, 0, n);
    buffer_.erase(0, n);
    return true;
}

bool RawConnection::read_head(RawResponse& response, std::chrono::steady_clock::time_point deadline) {
    std::string line;
    if (!read_line(line, deadline, response.error)) return false;
    if (line.size() < 12 || line.substr(0, 5) != "HTTP/") {
        response.error = "bad status line";
        return false;
    }
    response.status = std::stoi(line.substr(9, 3));
    for (;;) {
        if (!read_line(line, deadline, response.error)) return false;
        if (line.empty()) return true;
        const auto colon = line.find(':');
        auto value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        response.headers[lower(line.substr(0, colon))] = value;
    }
}

RawResponse RawConnection::read_response_head(std::chrono::milliseconds timeout) {
    RawResponse response;
    response.complete = read_head(response, std::chrono::steady_clock::now() + timeout);
    return response;
}

RawResponse RawConnection::read_response(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    RawResponse response;
    std::string line;
    if (!read_head(response, deadline)) return response;
    response.chunked = lower(response.header("transfer-encoding")) == "chunked";
    if (!response.chunked) {
        const auto length = response.header("content-length");
        response.complete = read_exact(length.empty() ? 0 : std::stoul(length), response.body, deadline, response.error);
        return response;
    }
    for (;;) {
        if (!read_line(line, deadline, response.error)) return response;
        const auto size = std::stoul(line, nullptr, 16);
        if (size == 0) {
            response.complete = read_line(line, deadline, response.error) && line.empty();
            return response;
        }
        std::string crlf;
        if (!read_exact(size, response.body, deadline, response.error) || !read_exact(2, crlf, deadline, response.error)) {
            return response;
        }
    }
}

bool RawConnection::closed_without_bytes(std::chrono::milliseconds timeout) {
    std::string why;
    const bool got_bytes = fill(std::chrono::steady_clock::now() + timeout, why);
    return !got_bytes && (why == "eof" || why == "reset");
}

RawResponse http_get(unsigned short port, const std::string& target, std::chrono::milliseconds timeout) {
    auto connection = RawConnection::open(port);
    if (!connection) return RawResponse{0, {}, {}, false, false, "refused"};
    connection->send_get(target);
    return connection->read_response(timeout);
}

RawResponse http_post(unsigned short port, const std::string& target, std::chrono::milliseconds timeout) {
    auto connection = RawConnection::open(port);
    if (!connection) return RawResponse{0, {}, {}, false, false, "refused"};
    connection->send_post(target);
    return connection->read_response(timeout);
}

} // namespace lastcall::testing

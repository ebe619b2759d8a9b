#include "probe_client.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lastcall::harness {

using Clock = std::chrono::steady_clock;

namespace {

// Waits until `fd` is ready for `events` or the deadline passes (false).
bool wait_for(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return false;
    }
}

ProbeResponse failure(ProbeError error, std::string text) {
    ProbeResponse r;
    r.error = error;
    r.error_text = std::move(text);
    return r;
}

} // namespace

std::string_view to_string(ProbeError error) {
    switch (error) {
    case ProbeError::none: return "";
    case ProbeError::unresolved: return "unresolved";
    case ProbeError::refused: return "refused";
    case ProbeError::connect_failed: return "connect_failed";
    case ProbeError::timeout: return "timeout";
    case ProbeError::closed: return "closed";
    case ProbeError::malformed: return "malformed";
    }
    return "";
}

std::optional<std::string_view> ProbeResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), name.size()) == 0) return value;
    }
    return std::nullopt;
}

ProbeClient::ProbeClient(HostAddress address, std::uint16_t port) : address_(std::move(address)), port_(port) {}

ProbeClient::ProbeClient(std::string host, std::uint16_t port) : port_(port) {
    auto resolved = resolve_host(host);
    address_ = std::move(resolved.address);
    resolve_error_ = std::move(resolved.error);
}

ProbeError ProbeClient::connect(Deadline deadline, std::string& why) {
    disconnect();
    fd_ = ::socket(address_->socket_family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) {
        why = fmt::format("socket: {}", std::strerror(errno));
        return ProbeError::connect_failed;
    }
    sockaddr_storage storage{};
    const auto length = static_cast<socklen_t>(address_->to_sockaddr(port_, storage));
    int error = 0;
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
        error = errno;
        if (error == EINPROGRESS) {
            if (!wait_for(fd_, POLLOUT, deadline)) {
                disconnect();
                why = fmt::format("no connection to {} within the deadline", address_->authority(port_));
                return ProbeError::connect_failed;
            }
            socklen_t size = sizeof error;
            if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
        }
    }
    if (error == 0) {
        ++connections_made_;
        return ProbeError::none;
    }
    disconnect();
    why = fmt::format("connect to {}: {}", address_->authority(port_), std::strerror(error));
    return error == ECONNREFUSED ? ProbeError::refused : ProbeError::connect_failed;
}

void ProbeClient::disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    unread_.clear();
}

bool ProbeClient::connect_only(std::chrono::milliseconds timeout, std::string* why_not) {
    if (!address_) return false;
    std::string why;
    const bool ok = connect(Clock::now() + timeout, why) == ProbeError::none;
    if (why_not) *why_not = why;
    disconnect();
    return ok;
}

bool ProbeClient::send_all(std::string_view bytes, Deadline deadline) {
    while (!bytes.empty()) {
        const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (!wait_for(fd_, POLLOUT, deadline)) return false;
        } else {
            return false;
        }
    }
    return true;
}

int ProbeClient::get(const std::string& path, std::chrono::milliseconds timeout, std::string* body) {
    auto r = request(path, timeout);
    if (body) *body = std::move(r.body);
    return r.status;
}

ProbeResponse ProbeClient::request(const std::string& path, std::chrono::milliseconds timeout, std::size_t body_limit) {
    if (!address_) return failure(ProbeError::unresolved, resolve_error_);
    const auto deadline = Clock::now() + timeout;
    if (fd_ >= 0) {
        // The server closed the kept connection while we were away (or wrote to it, which no request
        // asked for): start afresh rather than send into it.
        char byte;
        const auto n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) disconnect();
    }
    bool crossed_close = false;
    auto r = attempt(path, deadline, timeout, body_limit, crossed_close);
    if (crossed_close && Clock::now() < deadline) r = attempt(path, deadline, timeout, body_limit, crossed_close);
    return r;
}

ProbeResponse ProbeClient::attempt(const std::string& path, Deadline deadline, std::chrono::milliseconds timeout,
                                   std::size_t body_limit, bool& crossed_close) {
    const bool reused = fd_ >= 0;
    crossed_close = false;
    if (!reused) {
        std::string why;
        if (const auto error = connect(deadline, why); error != ProbeError::none) return failure(error, why);
    }
    const auto text = fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: lastcall-probe\r\n\r\n", path, address_->authority(port_));
    if (!send_all(text, deadline)) {
        disconnect();
        crossed_close = reused;
        return failure(ProbeError::closed, "the connection ended before the request was sent");
    }
    BodyPrefix body(body_limit);
    reader_.begin(false, &body, true);
    std::string ended;  // why reading stopped early: a timeout or a socket error
    bool timed_out = false;
    char chunk[16 * 1024];
    while (!reader_.done() && !reader_.failed()) {
        if (!wait_for(fd_, POLLIN, deadline)) {
            timed_out = true;
            ended = reader_.received_bytes() == 0
                        ? fmt::format("no answer within {}ms", timeout.count())
                        : fmt::format("incomplete answer within {}ms ({} bytes)", timeout.count(), reader_.received_bytes());
            break;
        }
        const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (n < 0) {
            ended = fmt::format("{} after {} bytes", std::strerror(errno), reader_.received_bytes());
            break;
        }
        if (n == 0) {
            reader_.feed_eof();
            break;
        }
        // Only a head split across reads is kept; body bytes pass straight through.
        const std::string_view got(chunk, static_cast<std::size_t>(n));
        if (unread_.empty()) {
            unread_.assign(got.substr(reader_.feed(got)));
        } else {
            unread_.append(got);
            unread_.erase(0, reader_.feed(unread_));
        }
    }

    ProbeResponse r;
    r.body_bytes = reader_.body_bytes();
    r.body_truncated = body.truncated();
    r.body = body.take();
    r.headers = reader_.headers();
    r.retry_after_s = reader_.head().retry_after_s;
    if (reader_.done()) {
        r.status = reader_.head().status;
        r.connection_close = !reader_.head().keep_alive;
        if (r.connection_close || !unread_.empty()) disconnect();  // bytes past the response: nobody asked
        return r;
    }
    const bool nothing_came = reader_.received_bytes() == 0;
    disconnect();
    if (timed_out) {
        r.error = ProbeError::timeout;
    } else if (!ended.empty()) {  // a reset
        r.error = ProbeError::closed;
        crossed_close = reused && nothing_came;
    } else {
        const auto e = reader_.error();
        const bool eof = e == ReadError::eof_before_response || e == ReadError::eof_in_head || e == ReadError::eof_in_body;
        r.error = eof ? ProbeError::closed : ProbeError::malformed;
        ended = reader_.describe_error();
        crossed_close = reused && e == ReadError::eof_before_response;
    }
    r.error_text = std::move(ended);
    return r;
}

} // namespace lastcall::harness

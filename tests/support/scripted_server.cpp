#include "scripted_server.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lastcall::testing {

using Clock = std::chrono::steady_clock;

namespace {

bool readable_within(int fd, Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    return left > 0 && ::poll(&p, 1, static_cast<int>(left)) == 1;
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

} // namespace

std::optional<std::string> ServerConnection::read_request(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    char buffer[4096];
    for (;;) {
        if (const auto end = unread_.find("\r\n\r\n"); end != std::string::npos) {
            std::string head = unread_.substr(0, end + 4);
            const auto length = header_of(head, "content-length");
            const auto body = length.empty() ? 0 : static_cast<std::size_t>(std::strtoull(length.c_str(), nullptr, 10));
            while (unread_.size() < end + 4 + body) {
                if (!readable_within(fd_, deadline)) return std::nullopt;
                const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
                if (n <= 0) return std::nullopt;
                unread_.append(buffer, static_cast<std::size_t>(n));
            }
            unread_.erase(0, end + 4 + body);
            return head;
        }
        if (!readable_within(fd_, deadline)) return std::nullopt;
        const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) return std::nullopt;
        unread_.append(buffer, static_cast<std::size_t>(n));
    }
}

bool ServerConnection::send(std::string_view bytes) {
    while (!bytes.empty()) {
        const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool ServerConnection::send_filler(std::uint64_t total) {
    static const std::string filler(256 * 1024, 'x');
    while (total > 0 && !stopping()) {
        const auto n = std::min<std::uint64_t>(total, filler.size());
        if (!send(std::string_view(filler).substr(0, static_cast<std::size_t>(n)))) return false;
        total -= n;
    }
    return total == 0;
}

void ServerConnection::close_write() { ::shutdown(fd_, SHUT_WR); }

void ServerConnection::reset() {
    linger hard{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    ::close(fd_);
    fd_ = -1;
}

bool ServerConnection::wait_for_close(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    char buffer[4096];
    while (readable_within(fd_, deadline)) {
        if (::recv(fd_, buffer, sizeof buffer, 0) <= 0) return true;
    }
    return false;
}

std::string ServerConnection::path_of(const std::string& request) {
    const auto first = request.find(' ');
    const auto second = request.find(' ', first + 1);
    return first == std::string::npos || second == std::string::npos ? "" : request.substr(first + 1, second - first - 1);
}

std::string ServerConnection::header_of(const std::string& request, std::string_view name) {
    const auto text = lower(request);
    const auto at = text.find("\r\n" + lower(name) + ":");
    if (at == std::string::npos) return "";
    auto value = request.substr(at + 3 + name.size(), request.find("\r\n", at + 2) - at - 3 - name.size());
    value.erase(0, value.find_first_not_of(' '));
    return value;
}

std::string ServerConnection::chunk(std::string_view text) {
    char size[20];
    std::snprintf(size, sizeof size, "%zx\r\n", text.size());
    return size + std::string(text) + "\r\n";
}

ScriptedServer::ScriptedServer(Script script, Family family) : script_(std::move(script)) {
    const int domain = family == Family::ipv4 ? AF_INET : AF_INET6;
    listener_ = ::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage storage{};
    socklen_t length = 0;
    if (family == Family::ipv4) {
        auto& a = reinterpret_cast<sockaddr_in&>(storage);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        length = sizeof a;
    } else {
        auto& a = reinterpret_cast<sockaddr_in6&>(storage);
        a.sin6_family = AF_INET6;
        a.sin6_addr = in6addr_loopback;
        length = sizeof a;
    }
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&storage), length) != 0 || ::listen(listener_, 64) != 0) {
        if (listener_ >= 0) ::close(listener_);
        listener_ = -1;
        return;
    }
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&storage), &length);
    port_ = ntohs(family == Family::ipv4 ? reinterpret_cast<sockaddr_in&>(storage).sin_port : reinterpret_cast<sockaddr_in6&>(storage).sin6_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

ScriptedServer::~ScriptedServer() {
    stopping_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    std::lock_guard lock(mutex_);
    for (auto& t : connections_) t.join();
    if (listener_ >= 0) ::close(listener_);
}

void ScriptedServer::accept_loop() {
    while (!stopping_) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, 10) != 1) continue;
        const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        const int index = accepted_++;
        std::lock_guard lock(mutex_);
        connections_.emplace_back([this, fd, index] {
            ServerConnection connection(fd, stopping_);
            script_(connection, index);
            if (connection.fd() >= 0) ::close(connection.fd());
        });
    }
}

std::uint64_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

} // namespace lastcall::testing

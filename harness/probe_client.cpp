#include "probe_client.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lastcall::harness {

using Clock = std::chrono::steady_clock;

bool ProbeClient::connect(std::chrono::milliseconds timeout) {
    disconnect();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    ::inet_pton(AF_INET, host_.c_str(), &address.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 && errno != EINPROGRESS) {
        disconnect();
        return false;
    }
    pollfd p{fd_, POLLOUT, 0};
    int error = 0;
    socklen_t length = sizeof error;
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1 || ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0 ||
        error != 0) {
        disconnect();
        return false;
    }
    return true;
}

void ProbeClient::disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool ProbeClient::connect_only(std::chrono::milliseconds timeout) {
    const bool ok = connect(timeout);
    disconnect();
    return ok;
}

int ProbeClient::get(const std::string& path, std::chrono::milliseconds timeout, std::string* body) {
    if (fd_ < 0 && !connect(timeout)) return -1;
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host_ + "\r\nUser-Agent: lastcall-probe\r\n\r\n";
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
        disconnect();
        return -1;
    }
    // Read the head and a Content-Length body; anything else ends the connection after this probe.
    std::string response;
    const auto deadline = Clock::now() + timeout;
    std::size_t wanted = std::string::npos;
    for (;;) {
        const auto head_end = response.find("\r\n\r\n");
        if (head_end != std::string::npos && wanted == std::string::npos) {
            const auto at = response.find("Content-Length: ");
            wanted = head_end + 4 + (at != std::string::npos && at < head_end ? std::stoul(response.substr(at + 16)) : 0);
        }
        if (wanted != std::string::npos && response.size() >= wanted) break;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        pollfd p{fd_, POLLIN, 0};
        char buffer[2048];
        if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) != 1) {
            disconnect();
            return -1;
        }
        const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) {
            disconnect();
            return -1;
        }
        response.append(buffer, static_cast<std::size_t>(n));
    }
    if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0) {
        disconnect();
        return -1;
    }
    if (response.find("onnection: close") != std::string::npos) disconnect();
    if (body) *body = response.substr(response.find("\r\n\r\n") + 4);
    return std::stoi(response.substr(9, 3));
}

} // namespace lastcall::harness

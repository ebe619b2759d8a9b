#include "endpoint.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lastcall::harness {

namespace {

std::string_view without_brackets(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') return text.substr(1, text.size() - 2);
    return text;
}

HostAddress from_sockaddr(const sockaddr* address) {
    char text[INET6_ADDRSTRLEN] = {};
    if (address->sa_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text, sizeof text);
    } else {
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text, sizeof text);
    }
    return *HostAddress::from_literal(text);
}

// Binds a fresh socket to address:port; the bound port, or 0 when the bind failed.
std::uint16_t try_bind(const HostAddress& address, std::uint16_t port, bool reuse) {
    const int fd = ::socket(address.socket_family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    const int one = 1;
    if (reuse) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage storage{};
    auto length = static_cast<socklen_t>(address.to_sockaddr(port, storage));
    std::uint16_t bound = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) == 0) {
        bound = storage.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&storage)->sin_port)
                                             : ntohs(reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
    }
    ::close(fd);
    return bound;
}

} // namespace

std::optional<HostAddress> HostAddress::from_literal(std::string_view text) {
    const std::string bare(without_brackets(text));
    HostAddress a;
    if (::inet_pton(AF_INET, bare.c_str(), a.bytes_.data()) == 1) {
        a.family_ = AddressFamily::ipv4;
    } else if (::inet_pton(AF_INET6, bare.c_str(), a.bytes_.data()) == 1) {
        a.family_ = AddressFamily::ipv6;
    } else {
        return std::nullopt;
    }
    // Canonical text ("::0001" -> "::1"), so logs and Host headers read the same for equal addresses.
    char canonical[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(a.socket_family(), a.bytes_.data(), canonical, sizeof canonical);
    a.literal_ = canonical;
    a.name_ = a.literal_;
    return a;
}

bool HostAddress::is_loopback() const {
    if (family_ == AddressFamily::ipv4) return bytes_[0] == 127;
    static constexpr std::array<std::uint8_t, 16> v6_loopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr std::array<std::uint8_t, 12> v4_mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (bytes_ == v6_loopback) return true;
    return std::memcmp(bytes_.data(), v4_mapped_prefix.data(), v4_mapped_prefix.size()) == 0 && bytes_[12] == 127;
}

std::string HostAddress::authority(std::uint16_t port) const {
    const bool bracket = name_ == literal_ && family_ == AddressFamily::ipv6;
    return bracket ? fmt::format("[{}]:{}", name_, port) : fmt::format("{}:{}", name_, port);
}

std::string HostAddress::describe() const {
    const auto shown = family_ == AddressFamily::ipv6 ? fmt::format("[{}]", literal_) : literal_;
    return name_ == literal_ ? shown : fmt::format("{} ({})", name_, shown);
}

HostAddress HostAddress::named(std::string name) const {
    HostAddress copy = *this;
    copy.name_ = std::move(name);
    return copy;
}

int HostAddress::socket_family() const { return family_ == AddressFamily::ipv4 ? AF_INET : AF_INET6; }

unsigned HostAddress::to_sockaddr(std::uint16_t port, sockaddr_storage& out) const {
    std::memset(&out, 0, sizeof out);
    if (family_ == AddressFamily::ipv4) {
        auto& v4 = reinterpret_cast<sockaddr_in&>(out);
        v4.sin_family = AF_INET;
        v4.sin_port = htons(port);
        std::memcpy(&v4.sin_addr, bytes_.data(), 4);
        return sizeof(sockaddr_in);
    }
    auto& v6 = reinterpret_cast<sockaddr_in6&>(out);
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    std::memcpy(&v6.sin6_addr, bytes_.data(), 16);
    return sizeof(sockaddr_in6);
}

ResolvedHost resolve_host(std::string_view host) {
    if (host.empty()) return {std::nullopt, "empty host"};
    if (auto literal = HostAddress::from_literal(host)) return {std::move(literal), {}};
    const std::string name(host);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    if (const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &list); rc != 0) {
        return {std::nullopt, fmt::format("cannot resolve host '{}': {}", name, ::gai_strerror(rc))};
    }
    const addrinfo* chosen = nullptr;
    for (const addrinfo* a = list; a; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
            chosen = a;
            break;
        }
        if (a->ai_family == AF_INET6 && !chosen) chosen = a;
    }
    ResolvedHost result;
    if (chosen) {
        result.address = from_sockaddr(chosen->ai_addr).named(name);
    } else {
        result.error = fmt::format("host '{}' has no IPv4 or IPv6 address", name);
    }
    ::freeaddrinfo(list);
    return result;
}

std::uint16_t pick_free_port(const HostAddress& address) { return try_bind(address, 0, false); }

bool port_bindable(const HostAddress& address, std::uint16_t port) { return port != 0 && try_bind(address, port, true) == port; }

} // namespace lastcall::harness

#include "listener_watch.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>

namespace lastcall::harness {

namespace {

constexpr std::uint32_t listen_state = 10;  // TCP_LISTEN in the kernel's numbering

// One dump of the LISTEN sockets of a family (the kernel filters by state: a few sockets, however
// many connections the run holds); true when one has `port` as its source port.
std::optional<bool> listening_in(int fd, std::uint8_t family, std::uint16_t port) {
    struct {
        nlmsghdr header;
        inet_diag_req_v2 request;
    } message{};
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    message.request.sdiag_family = family;
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = 1u << listen_state;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd, &message, sizeof message, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) return std::nullopt;
    alignas(nlmsghdr) std::array<char, 16384> buffer{};
    bool found = false;
    for (;;) {
        const auto got = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (got <= 0) return std::nullopt;
        auto remaining = static_cast<unsigned>(got);
        for (auto* h = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(h, remaining); h = NLMSG_NEXT(h, remaining)) {
            if (h->nlmsg_type == NLMSG_DONE) return found;
            if (h->nlmsg_type == NLMSG_ERROR) return std::nullopt;
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) continue;
            const auto* socket = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
            if (ntohs(socket->id.idiag_sport) == port) found = true;
        }
    }
}

} // namespace

std::optional<bool> tcp_listener_on(std::uint16_t port) {
    const int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return std::nullopt;
    auto result = listening_in(fd, AF_INET, port);
    if (result && !*result) result = listening_in(fd, AF_INET6, port);
    ::close(fd);
    return result;
}

} // namespace lastcall::harness

#include "sock_diag.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>

namespace lastcall::sock_diag {

SockDiag::SockDiag() : fd_(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) {}

SockDiag::~SockDiag() {
    if (fd_ >= 0) ::close(fd_);
}

template <typename Each> bool SockDiag::dump_tcp(int family, std::uint32_t states, std::uint16_t port, Each&& each) {
    if (fd_ < 0) return false;
    struct {
        nlmsghdr header;
        inet_diag_req_v2 request;
    } message{};
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    message.request.sdiag_family = static_cast<std::uint8_t>(family);
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = states;
    message.request.id.idiag_sport = htons(port);  // the kernel skips other local ports
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd_, &message, sizeof message, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) return false;

    alignas(nlmsghdr) std::array<char, 16384> buffer;
    for (;;) {
        const auto got = ::recv(fd_, buffer.data(), buffer.size(), 0);
        if (got <= 0) return false;
        auto remaining = static_cast<unsigned>(got);
        for (auto* h = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(h, remaining); h = NLMSG_NEXT(h, remaining)) {
            if (h->nlmsg_type == NLMSG_DONE) return true;
            if (h->nlmsg_type == NLMSG_ERROR) return false;
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) continue;
            inet_diag_msg diag;
            std::memcpy(&diag, reinterpret_cast<const char*>(h) + NLMSG_HDRLEN, sizeof diag);  // NLMSG_DATA, without its C cast
            if ((states & state_bit(diag.idiag_state)) != 0 && ntohs(diag.id.idiag_sport) == port) each(Socket{diag.idiag_state, diag.idiag_rqueue});
        }
    }
}

std::optional<std::size_t> SockDiag::count_tcp(int family, std::uint32_t states, std::uint16_t port) {
    std::size_t count = 0;
    if (!dump_tcp(family, states, port, [&count](const Socket&) { ++count; })) return std::nullopt;
    return count;
}

std::optional<std::size_t> SockDiag::accept_queue(int family, std::uint16_t port) {
    std::size_t queued = 0;
    // A listener's receive queue, as the kernel reports it (tcp_diag_get_info), is sk_ack_backlog.
    if (!dump_tcp(family, state_bit(TCP_LISTEN), port, [&queued](const Socket& s) { queued += s.receive_queue; })) return std::nullopt;
    return queued;
}

} // namespace lastcall::sock_diag

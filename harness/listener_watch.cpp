#include "listener_watch.hpp"

#include "sock_diag.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

namespace lastcall::harness {

std::optional<bool> tcp_listener_on(std::uint16_t port) {
    // A LISTEN dump is a few sockets, however many connections the run holds (the kernel filters by state).
    sock_diag::SockDiag kernel;
    for (const int family : {AF_INET, AF_INET6}) {
        const auto listening = kernel.count_tcp(family, sock_diag::state_bit(TCP_LISTEN), port);
        if (!listening) return std::nullopt;
        if (*listening > 0) return true;
    }
    return false;
}

std::optional<int> tcp_accept_queue(std::uint16_t port) {
    sock_diag::SockDiag kernel;
    int queued = 0;
    for (const int family : {AF_INET, AF_INET6}) {
        const auto waiting = kernel.accept_queue(family, port);
        if (!waiting) return std::nullopt;
        queued += static_cast<int>(*waiting);
    }
    return queued;
}

} // namespace lastcall::harness

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

} // namespace lastcall::harness

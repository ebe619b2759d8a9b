#include "handshakes.hpp"

#include "sock_diag.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

namespace lastcall::server {

std::optional<std::size_t> handshakes_under_way(unsigned short port, std::optional<int> listener_family) {
    sock_diag::SockDiag kernel;
    std::size_t count = 0;
    for (const int family : {AF_INET, AF_INET6}) {
        // Each family is a walk of the kernel's whole established-connection table (the port is
        // filtered per socket, not per bucket): ~15 ms of CPU with 10,000 idle connections open.
        // A listener's handshakes are of its own family (IPv4 on an IPv6 listener is v4-mapped).
        if (listener_family && *listener_family != family) continue;
        const auto found = kernel.count_tcp(family, sock_diag::state_bit(TCP_SYN_RECV), port);
        if (!found) return std::nullopt;
        count += *found;
    }
    return count;
}

} // namespace lastcall::server

#pragma once
// A TCP socket bound to 127.0.0.1 on a port the kernel chose: what the tests that ask the kernel
// about a port's sockets (sock_diag, the listener watch, the samplers) start from.
#include <cstdint>

namespace lastcall::testing {

struct LoopbackSocket {
    int fd = -1;             // -1: it could not be made or bound (errno says why)
    std::uint16_t port = 0;  // host order
};

// Bound, not listening; `flags` go to socket(2)'s type (SOCK_CLOEXEC...). The caller closes it.
LoopbackSocket bind_loopback(int flags = 0);

// A connected client socket to 127.0.0.1:`port`, or -1. The caller closes it.
int connect_loopback(std::uint16_t port, int flags = 0);

} // namespace lastcall::testing

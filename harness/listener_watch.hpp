#pragma once
// Whether something listens on a TCP port, asked of the kernel (net/sock_diag), without a
// connection: the readiness watch of a target with `ready: {tcp: true}` after it was ready. A
// connect every 10 ms for the whole run made connections the target had to accept and close
// (a target that never closes them kept ~100 a second, and fd_leak blamed them on it).
#include <cstdint>
#include <optional>

namespace lastcall::harness {

// True: a socket in LISTEN state is bound to `port` (IPv4 or IPv6, any address) in lastcall's
// network namespace; false: none is; nullopt: the kernel could not be asked (no sock_diag).
std::optional<bool> tcp_listener_on(std::uint16_t port);

// Connections to `port` the kernel completed that the target has not accepted yet (every
// listener's accept queue, IPv4 and IPv6): no descriptor of the target's yet. nullopt: not asked.
std::optional<int> tcp_accept_queue(std::uint16_t port);

} // namespace lastcall::harness

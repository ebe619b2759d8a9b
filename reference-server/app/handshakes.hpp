#pragma once
// Handshakes under way to a local TCP port: the kernel's request sockets (SYN_RECV), whose final
// ACK makes each a connection in the listener's accept queue. The listener keeps accepting while
// there are any when it stops (listener.hpp).
//
// Asked of the kernel through NETLINK_SOCK_DIAG (net/sock_diag), filtered there by state and port, though the
// kernel still walks its whole table of established connections to filter them (each family a
// walk: ~15 ms of CPU with 10,000 idle connections open). Reading /proc/net/tcp instead formats
// every TCP socket of the machine as text; with ~6,000 sockets on a busy host one read took 100-500 ms on the io thread, at
// every stop, and held draining open that long (last response -> exit: 75 ms median, 540 ms max).
#include <cstddef>
#include <optional>

namespace lastcall::server {

// nullopt when the kernel would not answer (no sock_diag: a restricted sandbox). With the
// listener's family (AF_INET, AF_INET6) only that family is asked: one table walk, not two.
std::optional<std::size_t> handshakes_under_way(unsigned short port, std::optional<int> listener_family = std::nullopt);

} // namespace lastcall::server

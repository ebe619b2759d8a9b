#pragma once
// The kernel's own view of a port's TCP sockets (NETLINK_SOCK_DIAG), asked without a connection
// and without text: the harness asks whether a target listens (harness/listener_watch), the
// reference server how many handshakes are under way at its stop (reference-server/app/handshakes).
// Plain system calls: no Asio, nothing of the project.
#include <cstddef>
#include <cstdint>
#include <optional>

namespace lastcall::sock_diag {

// A mask of TCP states as the kernel numbers them (linux/tcp_states.h): `state_bit(TCP_LISTEN)`.
constexpr std::uint32_t state_bit(int tcp_state) { return 1u << tcp_state; }

// One netlink socket for the questions of one moment; closed with it.
class SockDiag {
public:
    SockDiag();
    ~SockDiag();
    SockDiag(const SockDiag&) = delete;
    SockDiag& operator=(const SockDiag&) = delete;

    // The TCP sockets of `family` (AF_INET or AF_INET6) in one of `states` whose local port is
    // `port`, counted; nullopt when the kernel would not answer (no sock_diag: a restricted sandbox).
    // The kernel filters by state and port (a LISTEN dump is a few sockets however many connections
    // there are; other states still walk its whole table of connections: ~15 ms of CPU with 10,000
    // open); the port is checked again here, for an older kernel that does not filter by it.
    std::optional<std::size_t> count_tcp(int family, std::uint32_t states, std::uint16_t port);

    // The connections the kernel completed for the TCP listeners of `family` on `port` that no
    // process has accepted yet (each listener's accept queue, summed: SO_REUSEPORT makes several);
    // nullopt when the kernel would not answer. A LISTEN dump: a few sockets.
    std::optional<std::size_t> accept_queue(int family, std::uint16_t port);

private:
    struct Socket {
        int state = 0;
        std::uint32_t receive_queue = 0;  // a listener's: its accept queue's length
    };
    // Calls `each` for every socket the kernel reports; false when the kernel would not answer.
    template <typename Each> bool dump_tcp(int family, std::uint32_t states, std::uint16_t port, Each&& each);
    int fd_;
};

} // namespace lastcall::sock_diag

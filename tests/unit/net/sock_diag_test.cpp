// net/sock_diag against the real kernel: a listener on 127.0.0.1 is counted in its state, family
// and port only.
#include "loopback_socket.hpp"
#include "sock_diag.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lastcall::sock_diag {
namespace {

TEST(SockDiag, CountsAPortsSocketsInTheStatesAndFamilyAsked) {
    const auto [fd, port] = lastcall::testing::bind_loopback();
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    SockDiag kernel;
    EXPECT_EQ(kernel.count_tcp(AF_INET, state_bit(TCP_LISTEN), port), std::optional<std::size_t>(1));
    EXPECT_EQ(kernel.count_tcp(AF_INET6, state_bit(TCP_LISTEN), port), std::optional<std::size_t>(0)) << "another family";
    EXPECT_EQ(kernel.count_tcp(AF_INET, state_bit(TCP_SYN_RECV) | state_bit(TCP_ESTABLISHED), port), std::optional<std::size_t>(0))
        << "other states";
    EXPECT_EQ(kernel.count_tcp(AF_INET, state_bit(TCP_LISTEN), static_cast<std::uint16_t>(port + 1 == 0 ? 1 : port + 1)),
              std::optional<std::size_t>(0)) << "another port (free: a listener there would make this fail, not pass)";
    ::close(fd);
    EXPECT_EQ(kernel.count_tcp(AF_INET, state_bit(TCP_LISTEN), port), std::optional<std::size_t>(0)) << "closed";
}

// Connections the kernel completed wait in the listener's accept queue until accepted: the
// descriptors a target does not hold yet (harness fd_leak's baseline).
TEST(SockDiag, AcceptQueueIsTheCompletedConnectionsNotYetAccepted) {
    const auto [listener, port] = lastcall::testing::bind_loopback();
    ASSERT_GE(listener, 0);
    ASSERT_EQ(::listen(listener, 16), 0);
    SockDiag kernel;
    EXPECT_EQ(kernel.accept_queue(AF_INET, port), std::optional<std::size_t>(0)) << "nothing connected yet";
    int clients[3];
    for (int& c : clients) {
        c = lastcall::testing::connect_loopback(port);
        ASSERT_GE(c, 0);
    }
    EXPECT_EQ(kernel.accept_queue(AF_INET, port), std::optional<std::size_t>(3));
    const int accepted = ::accept(listener, nullptr, nullptr);
    ASSERT_GE(accepted, 0);
    EXPECT_EQ(kernel.accept_queue(AF_INET, port), std::optional<std::size_t>(2)) << "one accepted";
    EXPECT_EQ(kernel.accept_queue(AF_INET6, port), std::optional<std::size_t>(0)) << "another family";
    ::close(accepted);
    for (const int c : clients) ::close(c);
    ::close(listener);
}

} // namespace
} // namespace lastcall::sock_diag

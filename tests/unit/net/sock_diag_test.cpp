// net/sock_diag against the real kernel: a listener on 127.0.0.1 is counted in its state, family
// and port only.
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
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    socklen_t size = sizeof address;
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size), 0);
    const auto port = ntohs(address.sin_port);
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

} // namespace
} // namespace lastcall::sock_diag

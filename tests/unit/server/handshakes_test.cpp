// handshakes_under_way() against real sockets on 127.0.0.1: a listener whose filter drops the
// client's final ACK holds the handshake in SYN_RECV (the client, having the SYN-ACK, thinks it is
// connected), which is the state the listener lingers for when it stops.
#include "handshakes.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace lastcall::server {
namespace {

struct Socket {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ~Socket() { ::close(fd); }
};

// A listener on a free port of 127.0.0.1; returns the port.
unsigned short listen_on_loopback(const Socket& listener) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listener.fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(listener.fd, 16), 0);
    socklen_t size = sizeof address;
    ::getsockname(listener.fd, reinterpret_cast<sockaddr*>(&address), &size);
    return ntohs(address.sin_port);
}

// Keeps only segments with SYN set: the handshake's last ACK never reaches the listener.
void drop_final_acks(const Socket& listener) {
    sock_filter program[] = {
        {BPF_LD | BPF_B | BPF_ABS, 0, 0, 13},     // TCP flags
        {BPF_JMP | BPF_JSET | BPF_K, 0, 1, 0x02},  // SYN?
        {BPF_RET | BPF_K, 0, 0, 0xffffffff},       // keep
        {BPF_RET | BPF_K, 0, 0, 0},                // drop
    };
    sock_fprog filter{static_cast<unsigned short>(std::size(program)), program};
    ASSERT_EQ(::setsockopt(listener.fd, SOL_SOCKET, SO_ATTACH_FILTER, &filter, sizeof filter), 0);
}

void connect_to(const Socket& client, unsigned short port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(client.fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
}

TEST(Handshakes, CountsTheHandshakesHeldInSynRecvOnThatPortOnly) {
    const Socket held_listener, other_listener;
    const auto held_port = listen_on_loopback(held_listener);
    const auto other_port = listen_on_loopback(other_listener);
    drop_final_acks(held_listener);
    ASSERT_EQ(handshakes_under_way(held_port), 0u);

    const Socket first, second, elsewhere;
    connect_to(first, held_port);  // returns with the SYN-ACK: the server side is in SYN_RECV
    connect_to(second, held_port);
    connect_to(elsewhere, other_port);  // completed: in the other listener's accept queue
    EXPECT_EQ(handshakes_under_way(held_port), 2u);
    EXPECT_EQ(handshakes_under_way(other_port), 0u);
    // The listener's own family is asked alone (one walk of the kernel's table instead of two),
    // and finds them there, not in the other family.
    EXPECT_EQ(handshakes_under_way(held_port, AF_INET), 2u);
    EXPECT_EQ(handshakes_under_way(held_port, AF_INET6), 0u);
}

TEST(Handshakes, ACompletedHandshakeIsNotUnderWay) {
    const Socket listener;
    const auto port = listen_on_loopback(listener);
    const Socket client;
    connect_to(client, port);
    // Loopback delivers the final ACK within the connect: give a starved machine a moment.
    for (int i = 0; i < 100 && handshakes_under_way(port) != 0u; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(handshakes_under_way(port), 0u);
}

} // namespace
} // namespace lastcall::server

// The /proc sampler against a real process (this one) and the real kernel: a connection the kernel
// completed and nobody accepted is in the sample's accept queue, not among the process's fds;
// accepted, it is a descriptor (fd_leak's baseline rests on this).
#include "loopback_socket.hpp"
#include "samplers.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <thread>

namespace lastcall::harness {
namespace {

// The first sample taken after `after` samples were, waiting at most 5 s (a sample every 50 ms).
ProcSample sample_after(const ProcSampler& sampler, std::size_t after) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
        const auto samples = sampler.samples();
        if (samples.size() > after) return samples[after];
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "no sample in 5 s";
    return ProcSample{};
}

TEST(ProcSampler, AConnectionNotYetAcceptedIsInTheAcceptQueueNotAmongTheFds) {
    const auto [listener, port] = lastcall::testing::bind_loopback(SOCK_CLOEXEC);
    ASSERT_GE(listener, 0);
    ASSERT_EQ(::listen(listener, 16), 0);
    std::array<int, 5> clients{};
    for (int& c : clients) {
        c = lastcall::testing::connect_loopback(port, SOCK_CLOEXEC);
        ASSERT_GE(c, 0);
    }
    ProcSampler sampler(::getpid(), port, std::chrono::steady_clock::now(), [] { return 0; });
    const auto queued = sample_after(sampler, 0);
    EXPECT_EQ(queued.accept_queue, 5);

    std::array<int, 5> accepted{};
    for (int& a : accepted) a = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    const auto seen = sampler.samples().size();
    const auto held = sample_after(sampler, seen);
    EXPECT_EQ(held.accept_queue, 0);
    EXPECT_EQ(held.fds, queued.fds + 5) << "each accepted connection is one more descriptor";
    sampler.stop();
    for (const int a : accepted) ::close(a);
    for (const int c : clients) ::close(c);
    ::close(listener);

    ProcSampler not_asked(::getpid(), 0, std::chrono::steady_clock::now(), [] { return 0; });
    EXPECT_EQ(sample_after(not_asked, 0).accept_queue, -1) << "port 0: the kernel is not asked";
}

} // namespace
} // namespace lastcall::harness

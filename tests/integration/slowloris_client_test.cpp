// lastcall's slowloris client (kind: slowloris) keeps dripping header lines until the server cuts
// the connection or the workload's timeout runs out. Until the connection deadline replaced
// beast::tcp_stream, the first drip's wait closed lastcall's own socket (tcp_stream closes on a
// timeout), so every slowloris request ended `reset` after one drip and was judged `rejected`
// whatever the server did: these tests fail on that.
#include "drive_load.hpp"
#include "scripted_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <poll.h>
#include <sys/socket.h>

namespace lastcall::harness {
namespace {

using namespace std::chrono_literals;
using testing::ScriptedServer;
using testing::ServerConnection;
using Clock = std::chrono::steady_clock;

// Reads what the client sends for `hold` (or until it closes); counts the header lines it dripped.
int drips_received(ServerConnection& c, std::chrono::milliseconds hold) {
    const auto deadline = Clock::now() + hold;
    std::string received;
    char buffer[1024];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) break;
        pollfd p{c.fd(), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
        const auto n = ::recv(c.fd(), buffer, sizeof buffer, 0);
        if (n <= 0) break;
        received.append(buffer, static_cast<std::size_t>(n));
    }
    int lines = 0;
    for (auto at = received.find("X-Slow"); at != std::string::npos; at = received.find("X-Slow", at + 1)) ++lines;
    return lines;
}

Workload slowloris(std::chrono::milliseconds timeout) {
    auto w = single_workload("/", 1, WorkloadKind::slowloris, timeout);
    w.think = 100ms;  // one header line every 100 ms
    return w;
}

TEST(SlowlorisClient, HeldByTheServerItDripsUntilItsTimeoutAndIsUnknown) {
    std::atomic<int> drips{-1};
    ScriptedServer server([&](ServerConnection& c, int) { drips = drips_received(c, 1500ms); });
    const auto h = drive(slowloris(700ms), loopback(server.port()));
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].failure, Failure::timeout);
    EXPECT_EQ(h[0].outcome, Outcome::unknown);  // the server held it until lastcall gave up
    EXPECT_GE(h[0].done_us - h[0].sent_us, 600'000);
    EXPECT_TRUE(wait_until([&] { return drips.load() >= 0; }));
    EXPECT_GE(drips.load(), 3);  // 100 ms apart over 700 ms: dripped on after the first wait
}

TEST(SlowlorisClient, CutByTheServerIsRejectedWhenTheServerCutIt) {
    std::atomic<int> drips{-1};
    ScriptedServer server([&](ServerConnection& c, int) { drips = drips_received(c, 450ms); });  // then closes
    const auto h = drive(slowloris(3000ms), loopback(server.port()));
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].outcome, Outcome::rejected);
    EXPECT_TRUE(h[0].failure == Failure::eof_before_response || h[0].failure == Failure::reset) << to_string(h[0].failure);
    EXPECT_GE(h[0].done_us - h[0].sent_us, 400'000);  // ended by the server's close, not by lastcall's first drip
    EXPECT_TRUE(wait_until([&] { return drips.load() >= 0; }));
    EXPECT_GE(drips.load(), 2);
}

} // namespace
} // namespace lastcall::harness

// The load thread's readiness set on real loopback connections: a wait ends when bytes come, the
// peer's close after the last bytes is never lost to a short read, and a cancelled wait leaves
// nothing armed (the thread's io_context runs out of work and ends).
#include "readiness_poller.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include <sys/socket.h>

namespace {

using namespace lastcall::harness;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct Loopback {
    net::io_context io{1};
    tcp::socket client{io}, server{io};
    Loopback() {
        tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
        client.connect(acceptor.local_endpoint());
        acceptor.accept(server);
        client.non_blocking(true);
    }
    void send(std::string_view bytes) { ::send(server.native_handle(), bytes.data(), bytes.size(), 0); }
    // Runs the io_context until `done` or 5 s: a lost wake-up fails the test instead of hanging it.
    template <class Done>
    void run_until(Done done) {
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!done() && std::chrono::steady_clock::now() < give_up) {
            io.restart();
            io.run_for(std::chrono::milliseconds(50));
        }
    }
};

// What exchange() does: read while the socket may have bytes, wait when it cannot. Returns what
// one round read: bytes, or 0 for the end.
std::optional<ssize_t> read_round(Loopback& l, ReadWaiter& waiter) {
    std::optional<ssize_t> got;
    std::array<char, 4096> buffer;
    const auto read = [&] {
        const auto n = ::recv(l.client.native_handle(), buffer.data(), buffer.size(), 0);
        if (n < 0 || static_cast<std::size_t>(n) < buffer.size()) waiter.drained();
        if (n >= 0) got = n;
    };
    if (waiter.may_have_data()) read();
    if (got) return got;
    bool failed = false;
    waiter.async_wait([&](const boost::system::error_code& ec) {
        if (ec) failed = true;
        else read();
    });
    l.run_until([&] { return got || failed; });
    return got;
}

TEST(ReadinessPoller, AWaitEndsWhenTheBytesCome) {
    Loopback l;
    ReadinessPoller poller(l.io);
    ReadWaiter waiter;
    ASSERT_TRUE(poller.add(l.client.native_handle(), waiter));
    EXPECT_FALSE(waiter.may_have_data());
    bool ready = false;
    waiter.async_wait([&](const boost::system::error_code& ec) { ready = !ec; });
    l.io.poll();
    EXPECT_FALSE(ready);  // nothing sent yet
    l.send("HTTP/1.1 200 OK\r\n");
    l.run_until([&] { return ready; });
    EXPECT_TRUE(ready);
}

TEST(ReadinessPoller, ThePeersCloseAfterTheLastBytesIsNotLostToAShortRead) {
    Loopback l;
    ReadinessPoller poller(l.io);
    ReadWaiter waiter;
    ASSERT_TRUE(poller.add(l.client.native_handle(), waiter));
    // Bytes and the FIN arrive before the wait: one edge for both.
    l.send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    l.server.shutdown(tcp::socket::shutdown_send);
    const auto first = read_round(l, waiter);
    ASSERT_TRUE(first.has_value());
    EXPECT_GT(*first, 0);
    const auto second = read_round(l, waiter);  // must see the end, not wait for an edge that never comes
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(*second, 0);
}

TEST(ReadinessPoller, ACancelledWaitEndsAbortedAndLeavesNothingToRun) {
    Loopback l;
    ReadinessPoller poller(l.io);
    ReadWaiter waiter;
    ASSERT_TRUE(poller.add(l.client.native_handle(), waiter));
    std::optional<boost::system::error_code> result;
    waiter.async_wait([&](const boost::system::error_code& ec) { result = ec; });
    l.io.poll();
    waiter.cancel();
    l.io.restart();
    const auto ran = l.io.run_for(std::chrono::seconds(5));  // returns at once when nothing is left
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(*result, net::error::operation_aborted);
    EXPECT_TRUE(l.io.stopped());
    EXPECT_GE(ran, 1u);
}

// The keep-alive run's form of the wait: a plain call of its target, no handler.
struct CountingTarget final : ReadyTarget {
    void on_readable(boost::system::error_code ec) override { results.push_back(ec); }
    std::vector<boost::system::error_code> results;
};

TEST(ReadinessPoller, AWaitCallingItsTargetEndsWhenTheBytesComeOnce) {
    Loopback l;
    ReadinessPoller poller(l.io);
    ReadWaiter waiter;
    ASSERT_TRUE(poller.add(l.client.native_handle(), waiter));
    CountingTarget target;
    waiter.wait_calling(target);
    l.io.poll();
    EXPECT_TRUE(target.results.empty());  // nothing sent yet
    l.send("HTTP/1.1 200 OK\r\n");
    l.run_until([&] { return !target.results.empty(); });
    ASSERT_EQ(target.results.size(), 1u);
    EXPECT_FALSE(target.results[0]);
    EXPECT_TRUE(waiter.may_have_data());
    l.io.restart();
    l.io.run_for(std::chrono::milliseconds(20));
    EXPECT_EQ(target.results.size(), 1u);  // one wait, one call
}

TEST(ReadinessPoller, ACancelledWaitCallingItsTargetGetsAbortedAndLeavesNothingToRun) {
    Loopback l;
    ReadinessPoller poller(l.io);
    ReadWaiter waiter;
    ASSERT_TRUE(poller.add(l.client.native_handle(), waiter));
    CountingTarget target;
    waiter.wait_calling(target);
    l.io.poll();
    waiter.cancel();
    EXPECT_TRUE(target.results.empty());  // posted: never inside the canceller's call
    l.io.restart();
    l.io.run_for(std::chrono::seconds(5));  // returns at once when nothing is left
    ASSERT_EQ(target.results.size(), 1u);
    EXPECT_EQ(target.results[0], net::error::operation_aborted);
    EXPECT_TRUE(l.io.stopped());
}

// A wait begun while the set's wake-up dispatches, whose edge a later round of the same wake-up
// takes, leaves nothing armed: the thread's io_context runs out of work and ends. (An arm made by
// that wait and left behind kept it running: finish() never returned.)
TEST(ReadinessPoller, AWaitWhoseEdgeTheSameWakeUpTakesLeavesNothingArmed) {
    Loopback l;
    ReadinessPoller poller(l.io);
    ReadWaiter waiter;
    ASSERT_TRUE(poller.add(l.client.native_handle(), waiter));
    struct ReadsTwice final : ReadyTarget {
        ReadsTwice(Loopback& loopback, ReadWaiter& w) : l(loopback), waiter(w) {}
        void on_readable(boost::system::error_code) override {
            std::array<char, 64> buffer;
            while (::recv(l.client.native_handle(), buffer.data(), buffer.size(), 0) > 0) {}
            waiter.drained();
            if (++calls > 1) return;
            l.send("more");  // on loopback its edge is in the set before this returns
            waiter.wait_calling(*this);
        }
        Loopback& l;
        ReadWaiter& waiter;
        int calls = 0;
    } target(l, waiter);
    waiter.wait_calling(target);
    l.send("first");
    l.io.run_for(std::chrono::seconds(5));  // returns at once when nothing is left
    EXPECT_EQ(target.calls, 2);
    EXPECT_TRUE(l.io.stopped());
}

TEST(ReadinessPoller, ASocketTheSetRefusesIsNotRegistered) {
    net::io_context io{1};
    ReadinessPoller poller(io);
    ReadWaiter waiter;
    EXPECT_FALSE(poller.add(-1, waiter));  // the connection then reads through Asio
    EXPECT_FALSE(waiter.registered());
}

} // namespace

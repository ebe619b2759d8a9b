// The boundary between serving and draining, where a careless server closes a connection under a
// request that is already on its way. A connection that promised keep-alive must answer such a
// request with 503 + Retry-After + Connection: close, never with a silent close or a reset; a
// connect racing the signal is served or refused, never reset; and the report counts requests
// and connections apart.
#include "raw_http.hpp"
#include "reference_server.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace lastcall::testing {
namespace {

using namespace std::chrono_literals;

// The linger comes from the environment so that the same test runs against servers that have no
// such flag (the old server ignores the variable, and fails for the reason under test).
class LongLinger {
public:
    LongLinger() { ::setenv("LASTCALL_SERVER_CLOSE_LINGER", "2s", 1); }
    ~LongLinger() { ::unsetenv("LASTCALL_SERVER_CLOSE_LINGER"); }
};

// Polls /status on one kept connection until `in_flight` requests (itself included) are there.
void wait_in_flight(RawConnection& status, long in_flight) {
    for (int attempt = 0; attempt < 500; ++attempt) {
        status.send_get("/status");
        const auto response = status.read_response(2s);
        if (response.status == 200 && nlohmann::json::parse(response.body).at("in_flight").get<long>() >= in_flight) return;
        std::this_thread::sleep_for(5ms);
    }
    FAIL() << "requests never reached the server";
}

void expect_clean_rejection(const RawResponse& response) {
    EXPECT_EQ(response.status, 503) << "closed under a request on its way: " << response.error;
    EXPECT_EQ(response.header("retry-after"), "1");
    EXPECT_EQ(response.header("connection"), "close");
}

TEST(DrainBoundary, KeepAliveConnectionAnswersARequestArrivingAfterTheSignalWith503) {
    LongLinger linger;
    ReferenceServer server(fresh_test_dir() / "state", {});
    auto connection = RawConnection::open(server.port());
    connection->send_get("/fast");
    const auto first = connection->read_response(2s);
    ASSERT_EQ(first.status, 200);
    ASSERT_NE(first.header("connection"), "close") << "the response promised keep-alive";
    server.process().signal(SIGTERM);
    ASSERT_TRUE(server.wait_for_log("listener closed")) << server.stderr_text();
    // The client's next request, sent as if it had not yet seen anything of the shutdown.
    connection->send_get("/fast");
    expect_clean_rejection(connection->read_response(2s));
    EXPECT_TRUE(connection->closed_without_bytes(2s));
    const auto status = server.process().wait(5s);
    ASSERT_TRUE(status);
    EXPECT_TRUE(status->clean()) << describe(*status);
}

TEST(DrainBoundary, StreamThatPromisedKeepAliveLingersForTheNextRequest) {
    LongLinger linger;
    ReferenceServer server(fresh_test_dir() / "state", {"--stream-grace", "100ms"});
    auto status = RawConnection::open(server.port());
    auto stream = RawConnection::open(server.port());
    stream->send_get("/stream?chunks=100000&interval_ms=20");
    wait_in_flight(*status, 2);
    server.process().signal(SIGTERM);
    const auto events = stream->read_response(5s);
    ASSERT_TRUE(events.complete) << events.error;
    ASSERT_NE(events.body.find(R"("reason":"shutdown")"), std::string::npos);
    ASSERT_NE(events.header("connection"), "close") << "the stream's head promised keep-alive";
    stream->send_get("/fast");
    expect_clean_rejection(stream->read_response(2s));
}

// Requests and streams are counted; connections apart. An idle server used to report a request
// completed during draining for every idle connection (and one for the listener).
TEST(DrainBoundary, ReportCountsRequestsAndConnectionsApart) {
    const auto state = fresh_test_dir() / "state";
    ReferenceServer server(state, {});
    auto idle = RawConnection::open(server.port());
    idle->send_get("/fast");
    ASSERT_EQ(idle->read_response(2s).status, 200);
    std::vector<RawConnection> slow;
    for (int i = 0; i < 3; ++i) {
        slow.push_back(*RawConnection::open(server.port()));
        slow.back().send_get("/slow?ms=400");
    }
    auto status = RawConnection::open(server.port());
    wait_in_flight(*status, 4);
    server.process().signal(SIGTERM);
    for (auto& s : slow) EXPECT_EQ(s.read_response(3s).status, 200);
    const auto exit_status = server.process().wait(5s);
    ASSERT_TRUE(exit_status);
    EXPECT_TRUE(exit_status->clean()) << describe(*exit_status);
    const auto report = nlohmann::json::parse(std::ifstream(state / "shutdown-report.json"));
    const auto& counts = report.at("counts");
    // The three slow requests, and the poller's last /status when its response was still being
    // written at the signal; every one of them completed during the drain, and nothing else did.
    const auto in_flight = counts.at("in_flight_at_signal").get<long>();
    EXPECT_TRUE(in_flight == 3 || in_flight == 4) << in_flight;
    EXPECT_EQ(counts.at("completed_during_drain"), in_flight);
    EXPECT_EQ(counts.at("rejected_during_drain"), 0);
    ASSERT_TRUE(report.contains("connections")) << report.dump(2);
    const auto& connections = report.at("connections");
    EXPECT_EQ(connections.at("open_at_signal"), 5);      // idle, three slow, the status poller
    EXPECT_EQ(connections.at("closed_after_linger"), 2);  // idle and the status poller
    EXPECT_EQ(connections.at("never_served"), 0);
    EXPECT_EQ(connections.at("reset_request_unread"), 0);
    EXPECT_EQ(connections.at("reset_in_backlog"), 0);
}

// --close-linger 0 (speed over the keep-alive close race): idle and fresh connections close at
// once, and a stream whose head promised keep-alive closes right after its end event. The zero
// linger is judged without a timer; from inside the stream's session it must wait until the
// session is between requests, or its hold kept draining open until the drain budget (exit 4,
// the stream's connection closed at the drain's end, not after its end event).
TEST(DrainBoundary, ZeroLingerClosesIdleConnectionsAtOnceAndAStreamsAfterItsEnd) {
    const auto state = fresh_test_dir() / "state";
    ReferenceServer server(state, {"--close-linger", "0", "--stream-grace", "100ms", "--drain-budget", "5s"});
    auto idle = RawConnection::open(server.port());
    idle->send_get("/fast");
    ASSERT_EQ(idle->read_response(2s).status, 200);
    auto fresh = RawConnection::open(server.port());
    auto status = RawConnection::open(server.port());
    auto stream = RawConnection::open(server.port());
    stream->send_get("/stream?chunks=100000&interval_ms=20");
    wait_in_flight(*status, 2);
    server.process().signal(SIGTERM);
    EXPECT_TRUE(idle->closed_without_bytes(1s));
    EXPECT_TRUE(fresh->closed_without_bytes(1s));
    const auto events = stream->read_response(3s);
    ASSERT_TRUE(events.complete) << events.error;
    ASSERT_NE(events.body.find(R"("reason":"shutdown")"), std::string::npos);
    ASSERT_NE(events.header("connection"), "close") << "the stream's head promised keep-alive";
    EXPECT_TRUE(stream->closed_without_bytes(1s)) << "not closed after its end event";
    const auto exit_status = server.process().wait(5s);
    ASSERT_TRUE(exit_status);
    EXPECT_TRUE(exit_status->clean()) << describe(*exit_status);
    const auto report = nlohmann::json::parse(std::ifstream(state / "shutdown-report.json"));
    const auto& connections = report.at("connections");
    // idle, fresh, the stream's, and the status poller's unless its last response was still being
    // written at the signal (then it said Connection: close, and either it closed itself after the
    // write or the drain's end, which that write was the last thing to wait for, closed it first:
    // 1 in ~10 under load).
    const auto lingered = connections.at("closed_after_linger").get<long>();
    const auto at_drain_end = connections.at("closed_at_drain_end").get<long>();
    EXPECT_TRUE(lingered == 3 || lingered == 4) << report.dump(2);
    EXPECT_LE(lingered + at_drain_end, 4) << report.dump(2);
    EXPECT_EQ(connections.at("never_served"), 1) << "the fresh connection";
    EXPECT_EQ(connections.at("reset_request_unread"), 0);
}

// What the client of each idle keep-alive connection sees when a zero linger closes it at the
// drain: a clean end of stream (the FIN of the server's own close(2), before its exit), never a
// reset. Closing with a reset (SO_LINGER 0) would cost the server less at a stop with 10,000 idle
// connections; a client would then see ECONNRESET instead of EOF, and lose what it had in flight.
// Many connections on two io threads, so that their closes run beside the drain's end and the exit.
TEST(DrainBoundary, ZeroLingerEndsEveryIdleConnectionWithAFinNotAReset) {
    const auto state = fresh_test_dir() / "state";
    ReferenceServer server(state, {"--close-linger", "0", "--threads", "2"});
    constexpr int count = 200;
    std::vector<RawConnection> idle;
    for (int i = 0; i < count; ++i) {
        auto c = RawConnection::open(server.port());
        ASSERT_TRUE(c) << "connection " << i;
        c->send_get("/fast");
        ASSERT_EQ(c->read_response(2s).status, 200);
        idle.push_back(std::move(*c));
    }
    server.process().signal(SIGTERM);
    const auto exit_status = server.process().wait(10s);
    ASSERT_TRUE(exit_status);
    EXPECT_TRUE(exit_status->clean()) << describe(*exit_status);
    std::map<std::string, int> ends;  // what each connection saw after the exit: eof, reset, bytes
    for (auto& c : idle) {
        const auto response = c.read_response(1s);
        ++ends[response.status != 0 ? "bytes" : response.error];
    }
    EXPECT_EQ(ends["eof"], count) << "reset " << ends["reset"] << ", bytes " << ends["bytes"] << ", timeout " << ends["timeout"];
}

// Closed-loop clients that honour Connection: close, as real ones do, while SIGTERM lands at a
// random moment: every request gets a whole response (200 or a clean 503) or its connect is
// refused. A status-less end (reset, EOF) is the server closing under a request on its way.
TEST(DrainBoundary, RequestsRacingTheSignalAreServedOrRejectedNeverCut) {
    std::mt19937 random(20251124);
    for (int round = 0; round < 5; ++round) {
        ReferenceServer server(fresh_test_dir("-" + std::to_string(round)) / "state", {});
        const auto port = server.port();
        std::atomic<bool> stop{false};
        std::atomic<long> answered{0};
        std::mutex mutex;
        std::vector<std::string> cut;
        std::vector<std::thread> clients;
        for (int t = 0; t < 4; ++t) {
            clients.emplace_back([&] {
                const auto deadline = std::chrono::steady_clock::now() + 10s;
                while (!stop && std::chrono::steady_clock::now() < deadline) {
                    auto connection = RawConnection::open(port);
                    if (!connection) return;  // refused: the listener is closed
                    for (int reuse = 0; reuse < 5 && !stop; ++reuse) {
                        if (!connection->send_get("/fast")) break;
                        const auto response = connection->read_response(3s);
                        if (response.status == 0) {
                            std::lock_guard lock(mutex);
                            cut.push_back("reuse " + std::to_string(reuse) + ": " + response.error);
                            break;
                        }
                        ++answered;
                        if (response.header("connection") == "close") break;
                    }
                }
            });
        }
        // The signal races requests only once they flow: on a busy machine the client threads may
        // not have run at all 150 ms after they were started (then every connect was refused).
        const auto flowing_by = std::chrono::steady_clock::now() + 5s;
        while (answered == 0 && std::chrono::steady_clock::now() < flowing_by) std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 100)(random)));
        server.process().signal(SIGTERM);
        const auto status = server.process().wait(5s);
        stop = true;
        for (auto& c : clients) c.join();
        ASSERT_TRUE(status);
        EXPECT_TRUE(status->clean()) << describe(*status);
        EXPECT_GT(answered.load(), 0);
        EXPECT_TRUE(cut.empty()) << "round " << round << ": " << cut.size() << " requests cut, first: " << cut.front();
    }
}

} // namespace
} // namespace lastcall::testing

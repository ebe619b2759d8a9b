// A closed loop's requests back to back on a keep-alive connection (harness/load_worker_keep_alive.cpp:
// no coroutine per request) against a scripted server on real sockets: each way a plain exchange can
// go is recorded as the coroutine path records it, and the requests after a connection's first do
// go through the run (requests_back_to_back), so these tests fail when the run is broken or bypassed.
#include "drive_load.hpp"
#include "scripted_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace lastcall::harness {
namespace {

using namespace std::chrono_literals;

using testing::ScriptedServer;
using testing::ServerConnection;

struct Driven {
    std::vector<RequestRecord> history;
    std::uint64_t back_to_back = 0;
    std::int64_t in_flight_after = -1;
};

Driven drive_counting(const Workload& w, std::uint16_t port) {
    LoadGenerator load({w}, loopback(port));
    load.start();
    EXPECT_TRUE(wait_until([&] { return load.all_workloads_done(); }));
    Driven out;
    out.in_flight_after = load.live().in_flight;
    load.finish(1s);
    out.back_to_back = load.requests_back_to_back();
    out.history = load.take_history();
    return out;
}

void answer_ok_forever(ServerConnection& c, int) {
    while (c.read_request(5s)) c.send(ok_response);
}

TEST(LoadWorkerKeepAlive, RequestsAfterAConnectionsFirstGoBackToBackAndAreRecordedWhole) {
    ScriptedServer server(answer_ok_forever);
    const auto d = drive_counting(single_workload("/", 20), server.port());
    ASSERT_EQ(d.history.size(), 20u);
    EXPECT_EQ(d.back_to_back, 19u);  // the first one connects, through the coroutine
    EXPECT_EQ(d.in_flight_after, 0);
    for (std::size_t i = 0; i < d.history.size(); ++i) {
        const auto& r = d.history[i];
        EXPECT_EQ(r.outcome, Outcome::ok) << i;
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.bytes, ok_response.size());
        EXPECT_EQ(r.body_bytes, 2u);
        EXPECT_EQ(r.connection_id, d.history[0].connection_id);
        EXPECT_EQ(r.reuse_index, i);
        EXPECT_EQ(r.retry_of, 0u);
        EXPECT_GE(r.sent_us, r.intended_us);
        EXPECT_GE(r.done_us, r.sent_us);
        EXPECT_FALSE(r.closed_after);
    }
    EXPECT_EQ(server.accepted(), 1);
}

// Each response in three writes 20 ms apart, split inside the status line and inside the body: the
// run waits for the socket's next edge between them, and the response is one whole record.
void answer_in_pieces(ServerConnection& c, int) {
    while (c.read_request(5s)) {
        c.send("HTTP/1.1 2");
        std::this_thread::sleep_for(20ms);
        c.send("00 OK\r\nContent-Length: 5\r\n\r\nab");
        std::this_thread::sleep_for(20ms);
        c.send("cde");
    }
}

TEST(LoadWorkerKeepAlive, AResponseSplitAcrossReadsIsReadWhole) {
    ScriptedServer server(answer_in_pieces);
    const auto d = drive_counting(single_workload("/", 4), server.port());
    ASSERT_EQ(d.history.size(), 4u);
    EXPECT_EQ(d.back_to_back, 3u);
    for (const auto& r : d.history) {
        EXPECT_EQ(r.outcome, Outcome::ok);
        EXPECT_EQ(r.bytes, 43u);
        EXPECT_EQ(r.body_bytes, 5u);
        EXPECT_GT(r.done_us, r.first_byte_us);  // not whole in its first read
        EXPECT_EQ(r.connection_id, d.history[0].connection_id);
    }
}

// Keep-alive answers, the third on each connection with Connection: close (and the close).
void close_every_third(ServerConnection& c, int) {
    for (int n = 1; n <= 3; ++n) {
        if (!c.read_request(5s)) return;
        c.send(n < 3 ? ok_response : std::string("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"));
    }
}

TEST(LoadWorkerKeepAlive, AConnectionCloseAnswerEndsTheRunAndTheNextRequestConnectsAgain) {
    ScriptedServer server(close_every_third);
    const auto d = drive_counting(single_workload("/", 6), server.port());
    ASSERT_EQ(d.history.size(), 6u);
    EXPECT_EQ(d.back_to_back, 4u);  // the second and third on each connection
    for (std::size_t i = 0; i < 6; ++i) {
        const auto& r = d.history[i];
        EXPECT_EQ(r.outcome, Outcome::ok) << i;
        EXPECT_EQ(r.reuse_index, i % 3) << i;
        EXPECT_EQ(r.connection_close, i % 3 == 2) << i;
        EXPECT_EQ(r.connection_id, d.history[i - i % 3].connection_id) << i;
    }
    EXPECT_NE(d.history[3].connection_id, d.history[0].connection_id);
    EXPECT_EQ(server.accepted(), 2);
}

// The first connection answers two requests and closes without a word (no Connection: close); the
// next ones are served.
void close_after_two(ServerConnection& c, int index) {
    for (int n = 1; index > 0 || n <= 2; ++n) {
        if (!c.read_request(5s)) return;
        c.send(ok_response);
    }
}

// The third request meets the close: zero bytes on a reused connection at once, the idle-close
// race, retried on a new connection by the loop's coroutine (still the same request in flight).
TEST(LoadWorkerKeepAlive, AServerClosingMidKeepAliveIsTheNextRequestsRaceRetriedOnANewConnection) {
    ScriptedServer server(close_after_two);
    auto w = single_workload("/", 4);
    w.client_retry = ClientRetry::idempotent;
    const auto d = drive_counting(w, server.port());
    ASSERT_EQ(d.history.size(), 5u);
    const auto& h = d.history;
    EXPECT_EQ(h[0].outcome, Outcome::ok);
    EXPECT_EQ(h[1].outcome, Outcome::ok);
    EXPECT_TRUE(h[1].closed_after);
    EXPECT_EQ(h[2].outcome, Outcome::idle_close_race);
    EXPECT_EQ(h[2].reuse_index, 2u);
    EXPECT_TRUE(h[2].retried);
    EXPECT_EQ(h[3].retry_of, h[2].id);
    EXPECT_EQ(h[3].outcome, Outcome::ok);
    EXPECT_EQ(h[3].reuse_index, 0u);
    EXPECT_EQ(h[4].outcome, Outcome::ok);
    EXPECT_EQ(h[4].reuse_index, 1u);
    EXPECT_EQ(d.back_to_back, 3u);  // requests 2 and 3 on the first connection, 4 on the second
    EXPECT_EQ(d.in_flight_after, 0);
}

// The first connection resets in the middle of its third response.
void reset_in_third_response(ServerConnection& c, int index) {
    for (int n = 1;; ++n) {
        if (!c.read_request(5s)) return;
        if (index == 0 && n == 3) {
            c.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
            std::this_thread::sleep_for(20ms);
            return c.reset();
        }
        c.send(ok_response);
    }
}

TEST(LoadWorkerKeepAlive, AResetMidResponseIsDroppedAndTheLoopGoesOnOnANewConnection) {
    ScriptedServer server(reset_in_third_response);
    const auto d = drive_counting(single_workload("/", 5), server.port());
    ASSERT_EQ(d.history.size(), 5u);
    const auto& h = d.history;
    EXPECT_EQ(h[2].outcome, Outcome::dropped);
    EXPECT_EQ(h[2].failure, Failure::eof_mid_response);  // bytes came before the reset
    EXPECT_EQ(h[2].status, 200);
    for (const std::size_t i : {0, 1, 3, 4}) EXPECT_EQ(h[i].outcome, Outcome::ok) << i;
    EXPECT_EQ(h[3].reuse_index, 0u);
    EXPECT_EQ(d.back_to_back, 3u);
}

// Answers two requests, then holds the third's response until told (or 2 s).
struct HoldingServer {
    std::atomic<int> requests{0};
    std::atomic<bool> release{false};
    ScriptedServer server{[this](ServerConnection& c, int) {
        while (c.read_request(5s)) {
            if (++requests == 3) wait_until([&] { return release.load() || c.stopping(); }, 2s);
            c.send(ok_response);
        }
    }};
};

// A stop while a request is in flight: that request ends as it would (ok), and no other is sent.
TEST(LoadWorkerKeepAlive, AStopInTheMiddleLetsTheRequestInFlightEndAndSendsNoOther) {
    HoldingServer target;
    LoadGenerator load({single_workload("/", 100)}, loopback(target.server.port()));
    load.start();
    ASSERT_TRUE(wait_until([&] { return target.requests == 3; }));
    load.stop({});
    target.release = true;
    ASSERT_TRUE(wait_until([&] { return load.all_workloads_done(); }));
    EXPECT_EQ(load.live().in_flight, 0);
    load.finish(1s);
    const auto h = load.take_history();
    ASSERT_EQ(h.size(), 3u);
    for (const auto& r : h) EXPECT_EQ(r.outcome, Outcome::ok);
    EXPECT_EQ(load.requests_back_to_back(), 2u);
    EXPECT_EQ(target.requests, 3);
}

// The run's end (finish) with a response held: the request is cut by lastcall, `unknown`, not a
// failure of the target's, and finish() returns within its grace.
TEST(LoadWorkerKeepAlive, FinishingWhileAResponseIsHeldCutsItAsUnknown) {
    HoldingServer target;
    LoadGenerator load({single_workload("/", 100)}, loopback(target.server.port()));
    load.start();
    ASSERT_TRUE(wait_until([&] { return target.requests == 3; }));
    load.finish(50ms);
    target.release = true;
    const auto h = load.take_history();
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h[2].outcome, Outcome::unknown);
    EXPECT_NE(h[2].failure, Failure::harness_error);
    EXPECT_EQ(load.requests_back_to_back(), 2u);
    EXPECT_TRUE(load.harness_errors().empty());
}

// Answers two requests and then nothing (reading on) until the client goes.
void silent_after_two(ServerConnection& c, int) {
    for (int n = 1; n <= 2; ++n) {
        if (!c.read_request(5s)) return;
        c.send(ok_response);
    }
    c.wait_for_close(5s);
}

TEST(LoadWorkerKeepAlive, ATimeoutOfABackToBackRequestIsItsOwnFailure) {
    ScriptedServer server(silent_after_two);
    const auto d = drive_counting(single_workload("/", 3, WorkloadKind::request, 200ms), server.port());
    ASSERT_EQ(d.history.size(), 3u);
    EXPECT_EQ(d.history[1].outcome, Outcome::ok);
    EXPECT_EQ(d.history[2].failure, Failure::timeout);
    EXPECT_EQ(d.history[2].outcome, Outcome::dropped);
    EXPECT_EQ(d.back_to_back, 2u);
}

} // namespace
} // namespace lastcall::harness

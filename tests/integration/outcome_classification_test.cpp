// The load generator against a small server that misbehaves on purpose, one way per path. Every
// misbehaviour must land in its outcome class, from what actually crossed the wire.
#include "drive_load.hpp"
#include "scripted_server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace lastcall::harness {
namespace {

using namespace std::chrono_literals;

using testing::ScriptedServer;
using testing::ServerConnection;

// One misbehaviour per path, on every request of the connection.
void misbehave(ServerConnection& c, int) {
    const std::string partial = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial";
    const std::string sse = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
    const auto chunk = ServerConnection::chunk;
    for (int request = 1;; ++request) {
        const auto head = c.read_request();
        if (!head) return;
        const auto path = ServerConnection::path_of(*head);
        if (path == "/ok") {
            c.send(ok_response);
        } else if (path == "/reset-mid") {
            c.send(partial);
            return c.reset();
        } else if (path == "/truncate") {
            c.send(partial);
            return;
        } else if (path == "/stream-cut") {
            c.send(sse + chunk("event: tick\ndata: 1\n\n"));
            return;
        } else if (path == "/stream-ended") {
            c.send(sse + chunk("event: tick\ndata: 1\n\n") + chunk("event: end\ndata: {\"reason\":\"shutdown\"}\n\n") + "0\r\n\r\n");
        } else if (path == "/stream-data-only") {
            // Data-only events count; the end reason is JSON with spaces; one event is split across chunks.
            c.send(sse + chunk("data: a\n\ndata: b\n") + chunk("\nevent: end\ndata: { \"reason\" : \"complete\" }\n\n") + "0\r\n\r\n");
        } else if (path == "/503-retry" || path == "/503-bare") {
            c.send(std::string("HTTP/1.1 503 Service Unavailable\r\n") + (path == "/503-retry" ? "Retry-After: 1\r\n" : "") +
                   "Connection: close\r\nContent-Length: 0\r\n\r\n");
            return;
        } else if (path == "/job-null" || path == "/job-string" || path == "/job-html") {
            const std::string body = path == "/job-null" ? R"({"id":null})" : path == "/job-string" ? R"({"id":"j 1"})" : "<p>accepted</p>";
            c.send("HTTP/1.1 202 Accepted\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
        } else if (path == "/500") {
            c.send("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
        } else if (path == "/race" || path == "/hold") {
            if (request > 1) {
                std::this_thread::sleep_for(60ms);  // /hold: took the request, then dropped it
                return;
            }
            c.send(ok_response);  // keep-alive, no Connection: close
            if (path == "/race") {
                // Close the moment the next request arrives, without reading it: the client's
                // request crossed our close.
                pollfd p{c.fd(), POLLIN, 0};
                ::poll(&p, 1, 2000);
                return c.reset();
            }
        } else {
            return;
        }
    }
}

// lastcall-server's stream convention, as scenarios/sse-streams.yaml spells it.
StreamContract end_event_contract() {
    StreamContract c;
    c.end = EventMatcher{"end", std::nullopt, R"("reason":"complete")"};
    c.shutdown_notice = EventMatcher{"end", std::nullopt, "shutdown"};
    return c;
}

std::vector<RequestRecord> drive(std::uint16_t port, const std::string& path, std::uint64_t requests,
                                 WorkloadKind kind = WorkloadKind::request, ClientRetry retry = ClientRetry::none,
                                 const StreamContract& contract = {}) {
    auto w = single_workload(path, requests, kind);
    w.client_retry = retry;
    w.stream = contract;
    return harness::drive(w, loopback(port));
}

class OutcomeClassification : public ::testing::Test {
protected:
    ScriptedServer server_{misbehave};
};

TEST_F(OutcomeClassification, CompleteResponseIsOk) {
    const auto h = drive(server_.port(), "/ok", 3);
    ASSERT_EQ(h.size(), 3u);
    for (const auto& r : h) EXPECT_EQ(r.outcome, Outcome::ok);
    EXPECT_EQ(h[2].reuse_index, 2u);  // keep-alive: one connection
}

// Issue 7 item 4: `bytes` was the body plus the first read (the head counted with the body twice).
TEST_F(OutcomeClassification, BytesAreExactlyWhatCameOverTheWire) {
    const auto h = drive(server_.port(), "/ok", 2);
    ASSERT_EQ(h.size(), 2u);
    for (const auto& r : h) {
        EXPECT_EQ(r.bytes, ok_response.size());
        EXPECT_EQ(r.body_bytes, 2u);
    }
}

// Issue 7 item 4: every dispatched event counts (not only those with an `event:` line); a marker
// split across chunks is still seen.
TEST_F(OutcomeClassification, StreamEventsAreCountedAsTheStandardDispatchesThem) {
    StreamContract c;
    c.end = EventMatcher{"end", std::nullopt, "complete"};
    const auto h = drive(server_.port(), "/stream-data-only", 1, WorkloadKind::stream, ClientRetry::none, c);
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].events, 3u);
    EXPECT_EQ(h[0].stream_end, StreamEnd::complete);
    EXPECT_EQ(h[0].outcome, Outcome::ok);
}

// A job's 202 must hold its id where the contract says: a string or a number, in JSON.
TEST_F(OutcomeClassification, JobRepliesWithoutAnIdAreErrorsNamedForIt) {
    const auto job = [&](const std::string& path) {
        auto w = single_workload(path, 1, WorkloadKind::job);
        w.request.method = "POST";
        w.job = JobContract{"/id", "/jobs/{id}", "/state", "done"};
        const auto h = harness::drive(w, loopback(server_.port()));
        return h.empty() ? RequestRecord{} : h[0];
    };
    const auto kept = job("/job-string");
    EXPECT_EQ(kept.outcome, Outcome::ok);
    EXPECT_EQ(kept.reply_value, R"("j 1")");
    for (const char* path : {"/job-null", "/job-html"}) {
        const auto r = job(path);
        EXPECT_EQ(r.outcome, Outcome::error) << path;
        EXPECT_EQ(r.failure, Failure::reply_value_missing) << path;
        EXPECT_EQ(r.reply_value, "") << path;
    }
}

TEST_F(OutcomeClassification, ResetMidResponseIsDropped) {
    const auto h = drive(server_.port(), "/reset-mid", 1);
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].outcome, Outcome::dropped);
    EXPECT_EQ(h[0].status, 200);
}

TEST_F(OutcomeClassification, TruncatedBodyIsDropped) {
    const auto h = drive(server_.port(), "/truncate", 1);
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].outcome, Outcome::dropped);
    EXPECT_EQ(h[0].failure, Failure::eof_mid_response);
}

TEST_F(OutcomeClassification, TruncatedStreamIsDroppedAndACleanShutdownEndIsNot) {
    const auto cut = drive(server_.port(), "/stream-cut", 1, WorkloadKind::stream);
    ASSERT_EQ(cut.size(), 1u);
    EXPECT_EQ(cut[0].outcome, Outcome::dropped);
    EXPECT_EQ(cut[0].failure, Failure::truncated_stream);
    const auto ended = drive(server_.port(), "/stream-ended", 1, WorkloadKind::stream, ClientRetry::none, end_event_contract());
    ASSERT_EQ(ended.size(), 1u);
    EXPECT_EQ(ended[0].outcome, Outcome::ended_by_shutdown);
    EXPECT_EQ(ended[0].events, 2u);
    // The same stream where the contract names no shutdown notice: its message ended, so it is complete.
    const auto plain = drive(server_.port(), "/stream-ended", 1, WorkloadKind::stream);
    ASSERT_EQ(plain.size(), 1u);
    EXPECT_EQ(plain[0].outcome, Outcome::ok);
    // And where it requires an end marker that never came: cut, as far as the client can tell.
    StreamContract needs_done;
    needs_done.end = EventMatcher{std::nullopt, "[DONE]", std::nullopt};
    const auto undone = drive(server_.port(), "/stream-ended", 1, WorkloadKind::stream, ClientRetry::none, needs_done);
    ASSERT_EQ(undone.size(), 1u);
    EXPECT_EQ(undone[0].outcome, Outcome::dropped);
    EXPECT_EQ(undone[0].failure, Failure::truncated_stream);
}

TEST_F(OutcomeClassification, Status503IsRejectedWithAndWithoutRetryAfter) {
    const auto with = drive(server_.port(), "/503-retry", 1);
    const auto without = drive(server_.port(), "/503-bare", 1);
    ASSERT_EQ(with.size(), 1u);
    ASSERT_EQ(without.size(), 1u);
    EXPECT_EQ(with[0].outcome, Outcome::rejected);
    EXPECT_EQ(with[0].retry_after_s, 1);
    EXPECT_TRUE(with[0].connection_close);
    EXPECT_EQ(without[0].outcome, Outcome::rejected);
    EXPECT_EQ(without[0].retry_after_s, -1);
}

TEST_F(OutcomeClassification, UnexpectedStatusIsError) {
    const auto h = drive(server_.port(), "/500", 1);
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].outcome, Outcome::error);
}

TEST_F(OutcomeClassification, ReusedConnectionClosedUnderTheNextRequestIsIdleCloseRace) {
    const auto h = drive(server_.port(), "/race", 2);
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0].outcome, Outcome::ok);
    EXPECT_FALSE(h[0].connection_close);
    EXPECT_TRUE(h[0].closed_after);
    EXPECT_EQ(h[1].outcome, Outcome::idle_close_race);
    EXPECT_EQ(h[1].reuse_index, 1u);
}

TEST_F(OutcomeClassification, IdempotentRetryIsRecordedAsARetry) {
    const auto h = drive(server_.port(), "/race", 2, WorkloadKind::request, ClientRetry::idempotent);
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h[1].outcome, Outcome::idle_close_race);
    EXPECT_TRUE(h[1].retried);
    EXPECT_EQ(h[2].retry_of, h[1].id);
    EXPECT_EQ(h[2].outcome, Outcome::ok);
    EXPECT_EQ(h[2].reuse_index, 0u);  // on a fresh connection
}

TEST_F(OutcomeClassification, RequestHeldThenDroppedIsNotARace) {
    const auto h = drive(server_.port(), "/hold", 2);
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[1].outcome, Outcome::dropped);
}

// A request sent in the same millisecond as the scenario's SIGKILL meets the kill on the wire: it is
// cut by the scenario, not dropped by the server (seen in a soak: `idle_close_race` at the kill).
// Requests to the next generation are judged again.
TEST_F(OutcomeClassification, RequestThatCrossesTheScenariosKillIsUnknownUntilTheRestart) {
    const auto judge_race = [&](bool killed, bool restarted) {
        LoadGenerator load({single_workload("/race", 2)}, loopback(server_.port()));
        if (killed) load.mark_target_killed(std::chrono::steady_clock::now());  // ordered before either request
        if (restarted) load.mark_target_restarted(std::chrono::steady_clock::now());
        load.start();
        wait_until([&] { return load.all_workloads_done(); });
        load.finish(1s);
        const auto h = load.take_history();
        return h.size() == 2 ? h[1].outcome : Outcome::ok;
    };
    EXPECT_EQ(judge_race(false, false), Outcome::idle_close_race);
    EXPECT_EQ(judge_race(true, false), Outcome::unknown);
    EXPECT_EQ(judge_race(true, true), Outcome::idle_close_race);
}

TEST(OutcomeClassificationRefused, RefusedConnectionIsRejected) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);  // bound, never listened: connects are refused
    const auto h = drive(ntohs(address.sin_port), "/ok", 1);
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].outcome, Outcome::rejected);
    EXPECT_EQ(h[0].failure, Failure::connect_refused);
}

} // namespace
} // namespace lastcall::harness

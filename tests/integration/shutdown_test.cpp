// lastcall-server as a real process on 127.0.0.1: slow requests, a stream, an idle keep-alive
// connection and an increment in flight, then SIGTERM. The same observation is made against the
// faulty modes, and each must break exactly what it claims to break.
#include "raw_http.hpp"
#include "reference_server.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

namespace lastcall::testing {
namespace {

using namespace std::chrono_literals;

struct ShutdownObservation {
    bool slow_requests_ok = false;          // both slow requests answered 200, complete
    bool slow_responses_announce_close = false;
    bool stream_ended_cleanly = false;      // end event with reason shutdown, then the chunked terminator
    bool idle_connection_closed = false;    // closed within 1 s of the signal, without a byte
    bool refused_after_listener_closed = false;
    bool increment_acknowledged = false;
    ExitStatus exit;
    long counter_after_restart = -1;
};

long read_counter(unsigned short port) {
    const auto response = http_get(port, "/counter");
    if (response.status != 200) return -1;
    return nlohmann::json::parse(response.body).at("value").get<long>();
}

// Waits (bounded) until the server reports `expected` requests and streams in flight.
void wait_in_flight(unsigned short port, long expected) {
    for (int attempt = 0; attempt < 200; ++attempt) {
        const auto status = http_get(port, "/status");
        // The /status request itself is in flight while it is answered.
        if (status.status == 200 && nlohmann::json::parse(status.body).at("in_flight").get<long>() >= expected + 1) return;
        std::this_thread::sleep_for(10ms);
    }
    FAIL() << "requests never reached the server";
}

ShutdownObservation observe_shutdown(const std::vector<std::string>& faults) {
    const auto state = fresh_test_dir() / "state";
    std::vector<std::string> args{"--drain-budget", "3s", "--stream-grace", "200ms", "--global-budget", "6s"};
    for (const auto& fault : faults) args.insert(args.end(), {"--fault", fault});
    ShutdownObservation seen;
    {
        ReferenceServer server(state, args);
        const auto port = server.port();
        auto idle = RawConnection::open(port);
        idle->send_get("/fast");
        EXPECT_EQ(idle->read_response(2s).status, 200);
        auto slow_a = RawConnection::open(port);
        auto slow_b = RawConnection::open(port);
        auto stream = RawConnection::open(port);
        auto increment = RawConnection::open(port);
        slow_a->send_get("/slow?ms=700");
        slow_b->send_get("/slow?ms=900");
        stream->send_get("/stream?chunks=1000&interval_ms=20");
        increment->send_post("/counter/incr?by=7&ms=500");
        wait_in_flight(port, 4);

        server.process().signal(SIGTERM);
        seen.idle_connection_closed = idle->closed_without_bytes(1s);
        // The listener closes on its own strand, just after idle connections are closed: a connect in
        // between is accepted and must be answered 503; after it, connects are refused.
        for (int attempt = 0; attempt < 100 && !seen.refused_after_listener_closed; ++attempt) {
            auto late = RawConnection::open(port);
            if (!late) {
                seen.refused_after_listener_closed = RawConnection::last_connect_errno() == ECONNREFUSED;
                break;
            }
            late->send_get("/fast");
            if (late->read_response(2s).status != 503) break;
        }
        const auto a = slow_a->read_response(3s);
        const auto b = slow_b->read_response(3s);
        seen.slow_requests_ok = a.status == 200 && a.complete && b.status == 200 && b.complete;
        seen.slow_responses_announce_close = a.header("connection") == "close" && b.header("connection") == "close";
        const auto s = stream->read_response(3s);
        seen.stream_ended_cleanly = s.complete && s.body.find("event: end\n") != std::string::npos &&
                                    s.body.find(R"("reason":"shutdown")") != std::string::npos;
        seen.increment_acknowledged = increment->read_response(3s).status == 200;
        if (const auto status = server.process().wait(10s)) seen.exit = *status;
    }
    ReferenceServer restarted(state, {});
    seen.counter_after_restart = read_counter(restarted.port());
    restarted.process().signal(SIGTERM);
    restarted.process().wait(5s);
    return seen;
}

TEST(ServerShutdown, CorrectServerDrainsEverythingCleanly) {
    const auto seen = observe_shutdown({});
    EXPECT_TRUE(seen.slow_requests_ok);
    EXPECT_TRUE(seen.slow_responses_announce_close);
    EXPECT_TRUE(seen.stream_ended_cleanly);
    EXPECT_TRUE(seen.idle_connection_closed);
    EXPECT_TRUE(seen.refused_after_listener_closed);
    EXPECT_TRUE(seen.increment_acknowledged);
    EXPECT_TRUE(seen.exit.clean()) << describe(seen.exit);
    EXPECT_EQ(seen.counter_after_restart, 7) << "an increment acknowledged during draining was lost";
}

// Each faulty mode must fail the observation above in the way it is meant to.
TEST(ServerShutdown, NoDrainDropsInFlightRequests) {
    const auto seen = observe_shutdown({"no-drain"});
    EXPECT_FALSE(seen.slow_requests_ok);
    EXPECT_FALSE(seen.stream_ended_cleanly);
    EXPECT_FALSE(seen.exit.exited);
    EXPECT_EQ(seen.exit.signal, SIGTERM);
}

TEST(ServerShutdown, TruncateStreamsCutsTheStream) {
    const auto seen = observe_shutdown({"truncate-streams"});
    EXPECT_TRUE(seen.slow_requests_ok);
    EXPECT_FALSE(seen.stream_ended_cleanly);
}

TEST(ServerShutdown, CheckpointEarlyLosesAnAcknowledgedIncrement) {
    const auto seen = observe_shutdown({"checkpoint-early"});
    EXPECT_TRUE(seen.increment_acknowledged);
    EXPECT_EQ(seen.counter_after_restart, 0);
}

TEST(ServerShutdown, SkipCheckpointLosesAnAcknowledgedIncrement) {
    const auto seen = observe_shutdown({"skip-checkpoint"});
    EXPECT_TRUE(seen.increment_acknowledged);
    EXPECT_EQ(seen.counter_after_restart, 0);
}

TEST(ServerShutdown, KeepIdleLeavesIdleConnectionsOpenAndStallsTheDrain) {
    const auto seen = observe_shutdown({"keep-idle"});
    EXPECT_FALSE(seen.idle_connection_closed);
    EXPECT_TRUE(seen.exit.exited);
    EXPECT_EQ(seen.exit.code, 4) << "the drain should have run out of budget";
}

TEST(ServerShutdown, NoCloseHeaderOmitsConnectionClose) {
    const auto seen = observe_shutdown({"no-close-header"});
    EXPECT_TRUE(seen.slow_requests_ok);
    EXPECT_FALSE(seen.slow_responses_announce_close);
}

TEST(ServerShutdown, SecondSignalEscalatesToFastShutdown) {
    const auto state = fresh_test_dir() / "state";
    ReferenceServer server(state, {"--drain-budget", "20s"});
    auto slow = RawConnection::open(server.port());
    slow->send_get("/slow?ms=20000");
    wait_in_flight(server.port(), 1);
    server.process().signal(SIGTERM);
    EXPECT_FALSE(server.process().wait(200ms)) << "graceful shutdown should wait for the slow request";
    server.process().signal(SIGTERM);
    const auto status = server.process().wait(5s);
    ASSERT_TRUE(status);
    EXPECT_EQ(status->code, 5) << describe(*status);
    const auto report = nlohmann::json::parse(std::ifstream(state / "shutdown-report.json"));
    EXPECT_TRUE(report.at("escalated").get<bool>());
    EXPECT_EQ(report.at("checkpoint").at("outcome"), "written");
}

TEST(ServerShutdown, StuckTaskIsAbandonedAndNamedInTheReport) {
    const auto state = fresh_test_dir() / "state";
    ReferenceServer server(state, {"--task-budget", "100ms", "--task-cancel-grace", "100ms"});
    EXPECT_EQ(http_post(server.port(), "/stuck").status, 202);
    server.process().signal(SIGTERM);
    const auto status = server.process().wait(5s);
    ASSERT_TRUE(status);
    EXPECT_EQ(status->code, 4) << describe(*status);
    const auto report = nlohmann::json::parse(std::ifstream(state / "shutdown-report.json"));
    EXPECT_EQ(report.at("abandoned_tasks"), nlohmann::json::array({"stuck-1"}));
    EXPECT_EQ(report.at("version"), 1);
}

TEST(ServerShutdown, UnfinishedJobResumesAfterRestart) {
    const auto state = fresh_test_dir() / "state";
    long id = 0;
    {
        ReferenceServer server(state, {"--task-budget", "100ms"});
        const auto created = http_post(server.port(), "/jobs?steps=8&step_ms=100");
        ASSERT_EQ(created.status, 202);
        id = nlohmann::json::parse(created.body).at("id").get<long>();
        server.process().signal(SIGTERM);
        ASSERT_TRUE(server.process().wait(5s));
    }
    ReferenceServer restarted(state, {});
    nlohmann::json job;
    for (int attempt = 0; attempt < 300; ++attempt) {
        job = nlohmann::json::parse(http_get(restarted.port(), "/jobs/" + std::to_string(id)).body);
        if (job.at("state") == "completed") break;
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(job.at("state"), "completed");
    EXPECT_EQ(job.at("resumes"), 1);
    EXPECT_EQ(job.at("done_steps"), 8);
}

// A job cancelled while a commit of its progress stalls on the disk, and whose commit marking it
// resumable stalls again, is saving its state, not ignoring the cancel: shutdown waits for it past
// the cancel grace and exits clean (background-jobs under the noise soak exited 4: "abandoned 3
// task(s) that ignored cancellation"). Each commit here takes 1.5 s against a 1 s grace.
TEST(ServerShutdown, JobCancelledDuringAStalledCommitIsWaitedForNotAbandoned) {
    const auto state = fresh_test_dir() / "state";
    long id = 0;
    {
        ReferenceServer server(state, {"--task-budget", "200ms", "--job-commit-delay", "1500ms"});
        const auto created = http_post(server.port(), "/jobs?steps=10&step_ms=100");
        ASSERT_EQ(created.status, 202);
        id = nlohmann::json::parse(created.body).at("id").get<long>();
        std::this_thread::sleep_for(300ms);  // the first step's commit is under way
        server.process().signal(SIGTERM);
        const auto status = server.process().wait(20s);
        ASSERT_TRUE(status);
        const auto report = nlohmann::json::parse(std::ifstream(state / "shutdown-report.json"));
        EXPECT_EQ(status->code, 0) << describe(*status) << "\n" << report.dump(1);
        EXPECT_EQ(report.at("abandoned_tasks"), nlohmann::json::array());
        for (const auto& phase : report.at("phases")) {
            if (phase.at("phase") != "tasks") continue;
            EXPECT_EQ(phase.at("outcome"), "cancelled");
            EXPECT_NE(phase.at("detail").get<std::string>().find("saving their state"), std::string::npos) << phase.dump();
        }
    }
    ReferenceServer restarted(state, {});
    const auto job = nlohmann::json::parse(http_get(restarted.port(), "/jobs/" + std::to_string(id)).body);
    EXPECT_EQ(job.at("resumes"), 1) << job.dump();
}

// A request that reaches an idle keep-alive connection while the server is stopped (SIGSTOP, or
// starved of CPU) is read when it runs again, in the same turn as the linger timer that has run
// out meanwhile: it must be answered (503 + close), not closed as idle. lastcall explore found it
// (SIGTERM, SIGSTOP 8 ms later, SIGCONT 194 ms later): the parser had consumed the bytes, so the
// connection looked idle until the session resumed.
TEST(ServerShutdown, RequestThatArrivedWhileTheServerWasStoppedIsAnsweredNotClosedAsIdle) {
    const auto state = fresh_test_dir() / "state";
    ReferenceServer server(state, {});
    auto connection = RawConnection::open(server.port());
    ASSERT_TRUE(connection);
    connection->send_get("/fast");
    ASSERT_EQ(connection->read_response(3s).status, 200);
    server.process().signal(SIGTERM);
    std::this_thread::sleep_for(8ms);
    server.process().signal(SIGSTOP);
    std::this_thread::sleep_for(12ms);
    ASSERT_TRUE(connection->send_get("/fast"));
    std::this_thread::sleep_for(250ms);  // past the 200 ms close linger
    server.process().signal(SIGCONT);
    const auto response = connection->read_response(3s);
    EXPECT_EQ(response.status, 503) << "the request that came during the stop was closed unanswered";
    const auto status = server.process().wait(5s);
    ASSERT_TRUE(status);
    EXPECT_EQ(status->code, 0) << describe(*status);
}

TEST(ServerShutdown, DrainDelayKeepsServingWhileReadinessFails) {
    const auto state = fresh_test_dir() / "state";
    ReferenceServer server(state, {"--drain-delay", "2s"});
    EXPECT_EQ(http_get(server.port(), "/ready").status, 200);
    server.process().signal(SIGTERM);
    RawResponse ready;
    for (int attempt = 0; attempt < 100 && ready.status != 503; ++attempt) ready = http_get(server.port(), "/ready");
    EXPECT_EQ(ready.status, 503);
    EXPECT_EQ(http_get(server.port(), "/fast").status, 200) << "new requests are served while drain_delay lasts";
}

TEST(ServerShutdown, NoReadyFlipKeepsReadyAt200) {
    const auto state = fresh_test_dir() / "state";
    ReferenceServer server(state, {"--drain-delay", "2s", "--fault", "no-ready-flip"});
    server.process().signal(SIGTERM);
    std::this_thread::sleep_for(100ms);  // the flip would happen within microseconds
    EXPECT_EQ(http_get(server.port(), "/ready").status, 200);
}

TEST(ServerShutdown, RequestStartedDuringDrainGets503WithRetryAfter) {
    const auto state = fresh_test_dir() / "state";
    ReferenceServer server(state, {});
    auto slow = RawConnection::open(server.port());
    slow->send_get("/slow?ms=1000");  // keeps the drain open
    auto late = RawConnection::open(server.port());
    late->send("GET /fast HTTP/1.1\r\nHost: 127.0.0.1\r\n");  // a request under way, not idle
    wait_in_flight(server.port(), 1);
    server.process().signal(SIGTERM);
    std::this_thread::sleep_for(100ms);
    late->send("\r\n");
    const auto response = late->read_response(2s);
    EXPECT_EQ(response.status, 503);
    EXPECT_EQ(response.header("retry-after"), "1");
    EXPECT_EQ(response.header("connection"), "close");
    EXPECT_EQ(slow->read_response(3s).status, 200);
}

} // namespace
} // namespace lastcall::testing

namespace lastcall::testing {
namespace {

// A client that connected but had not sent its request when draining started (go#22682): the
// request must get a clean 503, not an EOF. Found by the drain-delay scenario.
TEST(ServerShutdown, FreshConnectionWithoutARequestYetGetsA503NotAnEof) {
    const auto state = fresh_test_dir() / "state";
    ReferenceServer server(state, {});
    auto fresh = RawConnection::open(server.port());
    ASSERT_TRUE(fresh);
    EXPECT_EQ(http_get(server.port(), "/fast").status, 200);  // the fresh one is surely accepted by now
    server.process().signal(SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    fresh->send_get("/fast");
    const auto response = fresh->read_response(std::chrono::seconds(2));
    EXPECT_EQ(response.status, 503) << response.error;
    EXPECT_EQ(response.header("retry-after"), "1");
    const auto status = server.process().wait(std::chrono::seconds(5));
    ASSERT_TRUE(status);
    EXPECT_TRUE(status->clean()) << describe(*status);
}

} // namespace
} // namespace lastcall::testing

namespace lastcall::testing {
namespace {

// The server used to leave through _Exit, so LeakSanitizer never looked at it. A sanitized build
// shows a normal exit: ASan's atexit statistics appear only when exit() runs its handlers. Both a
// graceful shutdown and a fast one (with a request cut and a task abandoned, whose frames the
// io_context still holds) must end that way, with no leak and nothing used after it was freed.
TEST(ServerShutdown, EndsThroughANormalExitSoLeakSanitizerRuns) {
#if defined(__SANITIZE_ADDRESS__)
    const char* previous = std::getenv("ASAN_OPTIONS");
    const std::string options = std::string(previous ? previous : "") + (previous ? ":" : "") + "atexit=1";
    ::setenv("ASAN_OPTIONS", options.c_str(), 1);
    for (const bool fast : {false, true}) {
        const auto state = fresh_test_dir(fast ? "-fast" : "-graceful") / "state";
        ReferenceServer server(state, {"--task-budget", "50ms", "--task-cancel-grace", "50ms"});
        EXPECT_EQ(http_post(server.port(), "/stuck").status, 202);
        auto slow = RawConnection::open(server.port());
        slow->send_get(fast ? "/slow?ms=20000" : "/slow?ms=300");  // cut by the fast shutdown
        wait_in_flight(server.port(), 1);
        server.process().signal(fast ? SIGQUIT : SIGTERM);
        const auto status = server.process().wait(20s);
        ASSERT_TRUE(status);
        EXPECT_TRUE(status->exited) << describe(*status);
        EXPECT_EQ(status->code, fast ? 5 : 4) << server.stderr_text();
        const auto text = server.stderr_text();
        EXPECT_NE(text.find("AddressSanitizer exit stats"), std::string::npos) << "no normal exit: " << text;
        EXPECT_EQ(text.find("ERROR: LeakSanitizer"), std::string::npos) << text;
        EXPECT_EQ(text.find("ERROR: AddressSanitizer"), std::string::npos) << text;
    }
    previous ? ::setenv("ASAN_OPTIONS", previous, 1) : ::unsetenv("ASAN_OPTIONS");
#else
    GTEST_SKIP() << "only a sanitized build (SANITIZE=1 scripts/test) can see LeakSanitizer run";
#endif
}

} // namespace
} // namespace lastcall::testing

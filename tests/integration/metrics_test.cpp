// lastcall-server's /metrics as Prometheus reads it: `promtool check metrics` (Debian's prometheus
// package, which scripts/setup installs) finds nothing to say, on a running server and on one
// whose shutdown has begun; the series say what was served. And promtool is no rubber stamp: the
// exposition of before issue 12 fails it for the reason promtool gave then.
#include "child_process.hpp"
#include "raw_http.hpp"
#include "reference_server.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <thread>

namespace lastcall::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Promtool {
    bool clean = false;
    std::string said;
};

Promtool promtool_check(const std::string& exposition) {
    const auto dir = fresh_test_dir("promtool");
    std::ofstream(dir / "metrics.txt") << exposition;
    // promtool reads the exposition on stdin and writes its findings to stderr.
    ChildProcess tool({"/bin/sh", "-c", "exec /usr/bin/promtool check metrics < \"$0\" 2>&1", (dir / "metrics.txt").string()}, dir / "stderr");
    Promtool p;
    while (const auto line = tool.read_line(10s)) p.said += *line + "\n";
    const auto status = tool.wait(10s);
    p.clean = status && status->clean() && p.said.empty();
    if (!status || !status->exited || status->code == 127) p.said += "(promtool did not run: scripts/setup installs the prometheus package)\n";
    return p;
}

std::string metrics(unsigned short port) {
    const auto r = http_get(port, "/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4");
    return r.body;
}

bool has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

TEST(Metrics, PromtoolFindsNothingAndTheSeriesSayWhatWasServed) {
    ReferenceServer server(fresh_test_dir() / "state", {});
    for (int i = 0; i < 3; ++i) ASSERT_EQ(http_get(server.port(), "/fast").status, 200);
    ASSERT_EQ(http_get(server.port(), "/nosuch").status, 404);
    ASSERT_EQ(http_post(server.port(), "/fast").status, 405);
    const auto text = metrics(server.port());
    const auto check = promtool_check(text);
    EXPECT_TRUE(check.clean) << check.said << text;
    EXPECT_TRUE(has(text, R"(lastcall_http_request_duration_seconds_count{route="/fast",code="200"} 3)")) << text;
    EXPECT_TRUE(has(text, R"(lastcall_http_request_duration_seconds_bucket{route="/fast",code="200",le="+Inf"} 3)")) << text;
    EXPECT_TRUE(has(text, R"(lastcall_http_request_duration_seconds_count{route="other",code="404"} 1)")) << text;
    EXPECT_TRUE(has(text, R"(lastcall_http_request_duration_seconds_count{route="other",code="405"} 1)")) << "a POST is not the GET route: " << text;
    EXPECT_TRUE(has(text, R"(lastcall_phase{phase="running"} 1)")) << text;
    EXPECT_TRUE(has(text, R"(lastcall_phase{phase="draining"} 0)")) << "a state set: every phase, 0 or 1: " << text;
    EXPECT_TRUE(has(text, R"(lastcall_build_info{version="0.1.0",faults=""} 1)")) << text;
    EXPECT_TRUE(has(text, "lastcall_http_rejected_total 0")) << text;
    EXPECT_TRUE(has(text, "lastcall_http_dropped_total 0")) << text;
}

// With a drain delay the server still answers after the signal: the phase moves to preparing and
// the exposition stays clean.
TEST(Metrics, ThePhaseStateSetFollowsTheShutdown) {
    ReferenceServer server(fresh_test_dir() / "state", {"--drain-delay", "3s"});
    server.process().signal(SIGTERM);
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < deadline) {
        text = metrics(server.port());
        if (has(text, R"(lastcall_phase{phase="preparing"} 1)")) break;
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(has(text, R"(lastcall_phase{phase="preparing"} 1)")) << text;
    EXPECT_TRUE(has(text, R"(lastcall_phase{phase="running"} 0)")) << text;
    EXPECT_TRUE(has(text, "lastcall_ready 0")) << text;
    const auto check = promtool_check(text);
    EXPECT_TRUE(check.clean) << check.said << text;
}

TEST(Metrics, PromtoolRejectsTheOldExposition) {
    const auto check = promtool_check("# HELP lastcall_counter_value The acknowledged (durable) counter.\n# TYPE lastcall_counter_value gauge\n"
                                      "lastcall_counter_value 0\n");
    EXPECT_FALSE(check.clean);
    EXPECT_NE(check.said.find("lastcall_counter_value metric name should not include type 'counter'"), std::string::npos) << check.said;
}

} // namespace
} // namespace lastcall::testing

// The TCP readiness watch asks the kernel whether the port has a listener (harness/listener_watch.hpp)
// instead of connecting every 10 ms: a target that never closes a connection no longer collects
// lastcall's probes, and fd_leak still fails one that keeps connections its peers closed.
#include "checks.hpp"
#include "child_process.hpp"
#include "judged_run.hpp"
#include "listener_watch.hpp"
#include "loopback_socket.hpp"
#include "reference_server.hpp"
#include "scenario_loader.hpp"
#include "scenario_run.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace lastcall::harness {
namespace {


TEST(ListenerWatch, SeesAListenerOnItsPortAndItsClose) {
    const auto [fd, port] = lastcall::testing::bind_loopback();
    ASSERT_GE(fd, 0);
    EXPECT_EQ(tcp_listener_on(port), std::optional<bool>(false)) << "bound, not listening";
    ASSERT_EQ(::listen(fd, 1), 0);
    EXPECT_EQ(tcp_listener_on(port), std::optional<bool>(true));
    ::close(fd);
    EXPECT_EQ(tcp_listener_on(port), std::optional<bool>(false));
}

std::vector<CheckResult> run_silent(const std::string& workload, const std::string& dir, RunResult& result) {
    const auto parsed = load_scenario_text(R"(name: silent
target:
  command: ["python3", ")" + std::string(MISBEHAVING_TARGET) + R"(", "{port}", "silent"]
workloads:
  - name: get
    request: {path: "/fast"}
)" + workload + R"(
timeline:
  - at: 1500ms
    signal: TERM
limits: {max_duration: 10s}
)",
                                           "test.yaml");
    result = run_scenario(parsed, test_run_options(dir));
    return evaluate_checks(parsed, result);
}

const CheckResult* named(const std::vector<CheckResult>& checks, const std::string& name) {
    for (const auto& c : checks) {
        if (c.name == name) return &c;
    }
    return nullptr;
}

// A target that accepts and never closes: the watch went on the whole run (some 150 probes) and
// made no connection it kept, so fd_leak passes (it was +98 when each probe connected).
TEST(HarnessRun, TcpReadinessWatchMakesNoConnectionATargetMustClose) {
    RunResult result;
    const auto checks = run_silent("    connections: 2", "-silent-watch", result);
    EXPECT_GT(result.probes.size(), 50u) << "the watch ran all along";
    for (const auto& p : result.probes) EXPECT_FALSE(p.connected);
    const auto* leak = named(checks, "fd_leak");
    ASSERT_NE(leak, nullptr);
    EXPECT_EQ(leak->status, CheckStatus::pass) << leak->message << " " << leak->measured;
}

// The same target when lastcall closes its connections (requests that time out): the target keeps
// them all, and fd_leak fails it, as the real leak it is.
TEST(HarnessRun, TargetKeepingConnectionsItsPeersClosedFailsFdLeak) {
    RunResult result;
    const auto checks = run_silent("    connections: 4\n    timeout: 50ms", "-silent-leak", result);
    const auto* leak = named(checks, "fd_leak");
    ASSERT_NE(leak, nullptr);
    EXPECT_EQ(leak->status, CheckStatus::fail) << leak->message << " " << leak->measured;
}

// A target that answers with Connection: close and never closes: the load's and the HTTP probes'
// connections pile up (thousands of fds) and fd_leak fails, naming the probes' connections. It
// passed before ("0, 7 fewer than at the start"): the last sample before the reaped exit was of
// the exiting process, with no descriptors left.
TEST(HarnessRun, FdLeakFailsATargetKeepingClosedConnectionsAndCountsTheProbes) {
    const auto parsed = load_scenario_text(R"(name: http-hold
target:
  command: ["python3", ")" + std::string(MISBEHAVING_TARGET) + R"(", "{port}", "http_hold"]
  ready: {http: /ready, timeout: 5s}
workloads:
  - name: get
    request: {path: "/fast"}
    connections: 1
    max_requests: 300
timeline:
  - at: 1500ms
    signal: TERM
limits: {max_duration: 10s}
)",
                                           "test.yaml");
    const auto result = run_scenario(parsed, test_run_options("-http-hold"));
    const auto checks = evaluate_checks(parsed, result);
    const auto* leak = named(checks, "fd_leak");
    ASSERT_NE(leak, nullptr) << result.start_error;
    EXPECT_EQ(leak->status, CheckStatus::fail) << leak->measured;
    bool said = false;
    for (const auto& e : leak->evidence) said = said || e.find("lastcall's readiness probes made ") != std::string::npos;
    EXPECT_TRUE(said) << "the evidence names the probes' connections";
}

} // namespace
} // namespace lastcall::harness

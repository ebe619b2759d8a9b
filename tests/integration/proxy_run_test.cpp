// Whole runs with `proxy:` against lastcall-server as a real process: the conductor's hook (the
// load through the proxy, the removal after endpoint_lag, routing again after a restart, the run
// held until the removal) and what the run directory keeps of it.
#include "child_process.hpp"
#include "scenario_loader.hpp"
#include "scenario_run.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace lastcall::harness {
namespace {

using lastcall::testing::fresh_test_dir;
using lastcall::testing::server_binary;

RunResult run_text(const std::string& text) {
    RunOptions options;
    options.server_path = server_binary();
    options.run_dir = fresh_test_dir();
    return run_scenario(load_scenario_text(text, "test.yaml"), options);
}

std::size_t count(const RunResult& r, Outcome o) { return r.outcomes[static_cast<std::size_t>(o)]; }

// Load through the proxy, SIGTERM at 0.5 s and a restart when the target exits; `command` is the
// target's command as a YAML flow list.
std::string restart_through_proxy(const std::string& name, const std::string& command) {
    return "name: " + name + "\ntarget:\n  command: " + command + "\n  " + R"(ready: {http: /ready, timeout: 5s}
proxy: {endpoint_lag: 300ms}
workloads:
  - name: fast
    request: {path: /fast}
    connections: 2
    think: 10ms
    stop: 3s
timeline:
  - at: 500ms
    signal: TERM
  - when: exited
    restart_target: true
limits: {max_duration: 15s}
)";
}

TEST(ProxyRun, AfterARestartTheProxyRoutesToTheNewGeneration) {
    const auto result = run_text(restart_through_proxy("proxy-restart", R"(["{server}", "--port", "{port}", "--state-dir", "{workdir}/state", "--drain-delay", "600ms"])"));
    ASSERT_EQ(result.start_error, "");
    ASSERT_TRUE(result.proxied);
    ASSERT_EQ(result.generations.size(), 2u);
    EXPECT_EQ(count(result, Outcome::dropped), 0u);  // the drain delay outlasts the lag
    const auto second_ready = result.generations[1].ready_us;
    ASSERT_GT(second_ready, 0);
    std::size_t removed = 0, relayed_after_restart = 0;
    for (const auto& r : result.proxy_records) {
        if (r.source == proxy::ResponseSource::no_endpoint) ++removed;
        if (r.source == proxy::ResponseSource::upstream && r.upstream_status == 200 && r.received_us > second_ready) ++relayed_after_restart;
    }
    EXPECT_GT(removed, 0u) << "503s between the removal and the restart";
    EXPECT_GT(relayed_after_restart, 0u) << "the new generation served through the proxy";
    std::ifstream lines(result.run_dir / "proxy.jsonl");
    std::size_t n = 0;
    for (std::string line; std::getline(lines, line);) ++n;
    EXPECT_EQ(n, result.proxy_records.size());
}

// A generation started mid-run (the restart, while the load's connections and the proxy's listener
// are open) inherits none of lastcall's descriptors: Asio opens sockets without SOCK_CLOEXEC, and
// before the fix the second generation held copies of them. Each generation lists its descriptors
// (ls's own, inherited through sh's exec) before it execs the server.
TEST(ProxyRun, ATargetStartedMidRunInheritsNoneOfLastcallsSockets) {
    const auto result = run_text(restart_through_proxy(
        "proxy-restart-fds", R"(["sh", "-c", "echo listing >> {workdir}/fds.txt; ls -l /proc/self/fd >> {workdir}/fds.txt 2>&1; exec \"$@\"", "sh",
            "{server}", "--port", "{port}", "--state-dir", "{workdir}/state", "--drain-delay", "600ms"])"));
    ASSERT_EQ(result.start_error, "");
    ASSERT_EQ(result.generations.size(), 2u);
    std::ifstream in(result.run_dir / "work" / "fds.txt");
    const std::string listing((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(listing.find("socket:"), std::string::npos) << listing;
    int listings = 0;
    for (auto at = listing.find("listing\n"); at != std::string::npos; at = listing.find("listing\n", at + 1)) ++listings;
    EXPECT_EQ(listings, 2) << "one listing per generation";
}

TEST(ProxyRun, TheRunLastsUntilTheEndpointIsRemovedAndWhatFailedMeanwhileIsDropped) {
    const auto result = run_text(R"(name: proxy-lag
target:
  command: ["{server}", "--port", "{port}", "--state-dir", "{workdir}/state"]
  ready: {http: /ready, timeout: 5s}
proxy: {endpoint_lag: 1500ms}
workloads:
  - name: fast
    request: {path: /fast}
    connections: 2
    think: 10ms
timeline:
  - at: 300ms
    signal: TERM
limits: {max_duration: 15s}
)");
    ASSERT_EQ(result.start_error, "");
    ASSERT_FALSE(result.signals.empty());
    ASSERT_GE(result.exit_us, 0);
    const auto removal_us = result.signals[0].t_us + 1'500'000;
    EXPECT_LT(result.exit_us, removal_us);      // the server was gone before the load balancer let go
    EXPECT_GE(result.duration_us, removal_us);  // and the clients kept coming until then
    EXPECT_GT(count(result, Outcome::dropped), 0u);
    for_each_request(result, [](const RequestRecord& r) {
        if (r.outcome != Outcome::dropped) return;
        EXPECT_TRUE(is_upstream_failure(r.failure)) << to_string(r.failure);
        EXPECT_NE(r.proxy_record, 0u);
    });
}

} // namespace
} // namespace lastcall::harness

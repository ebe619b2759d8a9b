// stop_load against lastcall-server as a real process: a request the load had not sent when it
// stopped is never sent. Found by explore ('[durable] sse x1, increments x1; SIGQUIT at 100ms'):
// the stream cut by the fast exit reconnected at once, its SYN met the dying target and was sent
// again a second later, to the restarted one; the stream it then opened held the run until
// max_duration and the counter was never read back.
#include "checks.hpp"
#include "reference_server.hpp"
#include "scenario_loader.hpp"
#include "scenario_run.hpp"

#include <gtest/gtest.h>

namespace lastcall::harness {
namespace {

using lastcall::testing::fresh_test_dir;
using lastcall::testing::server_binary;

constexpr const char* sse_and_increments_quit_restart = R"(name: stop-load-before-send
target:
  command: ["{server}", "--port", "{port}", "--state-dir", "{workdir}/state", "--global-budget", "3s", "--stream-grace", "200ms",
            "--drain-delay", "300ms"]
  ready: {http: /ready, timeout: 5s}
workloads:
  - name: sse
    kind: stream
    request: {path: "/stream?chunks=100000&interval_ms=20"}
    stream: {end: {event: end, data_contains: '"reason":"complete"'}, shutdown_notice: {event: end, data_contains: '"reason":"shutdown"'}}
  - name: increments
    request: {method: POST, path: "/counter/incr?by=1&ms=50"}
    keep_alive: false
timeline:
  - at: 100ms
    signal: QUIT
  - when: exited
    stop_load: all
  - when: exited
    restart_target: true
limits: {max_duration: 10s}
expect:
  acked_writes: {workload: increments, model: counter, increment: 1, read: {path: /counter, pointer: /value}}
)";

TEST(StopLoad, ARequestNotSentWhenTheLoadStopsIsNeverSentToTheRestartedTarget) {
    const auto scenario = load_scenario_text(sse_and_increments_quit_restart, "test.yaml");
    RunOptions options;
    options.server_path = server_binary();
    options.run_dir = fresh_test_dir();
    const auto run = run_scenario(scenario, options);
    ASSERT_EQ(run.start_error, "");
    ASSERT_EQ(run.generations.size(), 2u);
    EXPECT_FALSE(run.limit_reached) << "an old stream on the restarted target held the run until max_duration";
    const auto restart_us = run.generations[1].spawn_us;
    for_each_request(run, [&](const RequestRecord& r) {
        EXPECT_LT(r.sent_us, restart_us) << "request " << r.id << " of the stopped load went to the restarted target";
    });
    for (const auto& c : evaluate_checks(scenario, run)) {
        if (c.name == "acked_writes_durable") EXPECT_EQ(c.status, CheckStatus::pass) << c.measured << " " << c.message;
    }
}

} // namespace
} // namespace lastcall::harness

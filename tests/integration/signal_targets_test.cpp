// Signal targets on a real forking target: lastcall-server --workers 2, whose master forks and
// execs its workers. `to: "worker 1"` reaches the oldest worker (by start time), `to: workers`
// every current one (a TERM without the master's word retires a worker, which the master
// replaces), and neither is the run's signal moment: only the TERM to the master is.
#include "child_process.hpp"
#include "scenario_loader.hpp"
#include "scenario_run.hpp"
#include "test_dir.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>

namespace lastcall::harness {
namespace {

using lastcall::testing::fresh_test_dir;
using nlohmann::json;

json master_report(const RunResult& run) {
    std::ifstream in(run.run_dir / "work" / "state" / "shutdown-report.json");
    return json::parse(in, nullptr, false);
}

const json* worker_with_pid(const json& report, pid_t pid) {
    for (const auto& w : report["workers"]) {
        if (w["pid"] == pid) return &w;
    }
    return nullptr;
}

TEST(SignalTargets, WorkerOneIsTheOldestWorkerAndWorkersIsEveryOne) {
    const auto scenario = load_scenario_text(R"(name: signal-targets
target:
  command: ["{server}", "--port", "{port}", "--state-dir", "{workdir}/state", "--workers", "2", "--threads", "1"]
  ready: {http: /ready}
workloads:
  - name: fast
    request: {path: /fast}
    think: 5ms
timeline:
  - at: 400ms
    signal: KILL
    to: worker 1
  - at: 1200ms
    signal: TERM
    to: workers
  - at: 2s
    signal: TERM
    to: master
limits: {max_duration: 20s}
)",
                                             "test.yaml");
    RunOptions options;
    options.server_path = lastcall::testing::server_binary();
    options.run_dir = fresh_test_dir();
    const auto run = run_scenario(scenario, options);
    ASSERT_EQ(run.start_error, "");
    ASSERT_EQ(run.signals.size(), 3u);
    const auto& kill = run.signals[0];
    ASSERT_TRUE(kill.delivered) << kill.why;
    ASSERT_EQ(kill.pids.size(), 1u);
    EXPECT_EQ(kill.to, fmt::format("worker 1 (pid {})", kill.pids[0]));
    EXPECT_EQ(kill.purpose, SignalPurpose::process);
    EXPECT_FALSE(kill.marks_shutdown()) << "a worker's death is not the run's signal moment";

    const auto& all = run.signals[1];
    ASSERT_TRUE(all.delivered) << all.why;
    EXPECT_EQ(all.pids.size(), 2u) << all.to;
    EXPECT_EQ(all.purpose, SignalPurpose::process) << "a TERM to the workers retires them: the service goes on";
    EXPECT_FALSE(all.marks_shutdown());
    EXPECT_TRUE(run.signals[2].marks_shutdown());

    const auto report = master_report(run);
    ASSERT_TRUE(report.is_object()) << "no shutdown-report.json";
    const auto* killed = worker_with_pid(report, kill.pids[0]);
    ASSERT_NE(killed, nullptr) << report.dump();
    EXPECT_EQ((*killed)["id"], "1.1") << "worker 1 is the first one the master spawned";
    EXPECT_EQ((*killed)["exit"], "killed by SIGKILL");
    for (const auto pid : all.pids) {
        const auto* w = worker_with_pid(report, pid);
        ASSERT_NE(w, nullptr) << "pid " << pid << " was not one of the master's workers: " << report.dump();
        EXPECT_NE((*w)["id"], "1.1") << "the killed worker was replaced before USR2";
    }
    // The process tree over time: the killed worker ended after the kill was sent (by the first scan
    // that missed it), and its replacement was born after it.
    const auto life = std::find_if(run.processes.begin(), run.processes.end(), [&](const ProcessLife& p) { return p.pid == kill.pids[0]; });
    ASSERT_NE(life, run.processes.end());
    EXPECT_EQ(life->parent, run.generations.at(0).pid);
    EXPECT_LT(life->spawn_us, 0) << "spawned before the load started";
    EXPECT_GE(life->gone_us, kill.t_us);
    EXPECT_LE(life->last_seen_us, life->gone_us);
    if (run.process_events.starts_with("kernel")) {  // the kernel's word: exact, with the status
        ASSERT_TRUE(life->exit.has_value());
        EXPECT_EQ(life->exit->describe(), "killed by SIGKILL");
        EXPECT_GE(life->exit_us, kill.t_us);
        EXPECT_LE(life->exit_us, life->gone_us);
    }
    const auto replacements = std::count_if(run.processes.begin(), run.processes.end(), [&](const ProcessLife& p) {
        return p.parent == run.generations.at(0).pid && p.spawn_us + 10'000 >= kill.t_us;
    });
    EXPECT_GE(replacements, 3) << "one for the killed worker, two for the ones TERM retired";
    std::ifstream events(run.run_dir / "events.jsonl");
    std::string line;
    int spawns = 0, exits = 0;
    while (std::getline(events, line)) {
        const auto e = json::parse(line, nullptr, false);
        if (e.is_object() && e["pid"] == kill.pids[0] && e["type"] == "process_spawn") ++spawns;
        if (e.is_object() && e["pid"] == kill.pids[0] && e["type"] == "process_exit") ++exits;
    }
    EXPECT_EQ(spawns, 1);
    EXPECT_EQ(exits, 1);
    ASSERT_TRUE(run.exit.has_value());
    EXPECT_TRUE(run.exit->exited && run.exit->code == 0) << run.exit->describe();
}

} // namespace
} // namespace lastcall::harness

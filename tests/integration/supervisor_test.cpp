// The supervisor against targets that misbehave with their processes (tests/support/targets) and
// against lastcall-server: every descendant found however it detaches, orphans reaped the moment
// they exit, undelivered signals, Ctrl+C while waiting, per-generation artifacts, stale reports.
// Through the CLI where lastcall's own process matters (child subreaper), else in-process.
#include "child_process.hpp"
#include "checks.hpp"
#include "endpoint.hpp"
#include "proc_reader.hpp"
#include "reference_server.hpp"
#include "scenario_loader.hpp"
#include "scenario_run.hpp"

#include <gtest/gtest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <csignal>
#include <fstream>
#include <iterator>
#include <thread>
#include <sys/wait.h>
#include <unistd.h>

namespace lastcall::harness {
namespace {

namespace fs = std::filesystem;
using lastcall::testing::ChildProcess;
using lastcall::testing::fresh_test_dir;
using nlohmann::json;

std::string misbehaving_target(const std::string& mode, const std::string& timeline) {
    return fmt::format(R"(name: misbehaving
target:
  command: ["python3", "{}", "{{port}}", "{}"]
  ready: {{tcp: true, timeout: 10s}}
timeline:
{}
limits: {{max_duration: 30s}}
)",
                       MISBEHAVING_TARGET, mode, timeline);
}

bool running(pid_t pid) {
    const auto stat = read_proc_stat(pid);
    return stat && stat->alive();
}

// Runs the CLI on a scenario; the parsed --json report and lastcall's exit.
struct CliRun {
    std::optional<lastcall::testing::ExitStatus> exit;
    json report;
    fs::path run_dir;
    std::string output;
    json check(const std::string& name) const {
        for (const auto& c : report["runs"][0]["checks"]) {
            if (c["name"] == name) return c;
        }
        return nullptr;
    }
};

CliRun run_cli(const std::string& scenario, const std::vector<std::string>& env = {}) {
    const auto dir = fresh_test_dir();
    std::ofstream(dir / "scenario.yaml") << scenario;
    std::vector<std::string> argv{"/usr/bin/env"};
    argv.insert(argv.end(), env.begin(), env.end());
    for (const auto& a : {std::string(LASTCALL_BINARY), std::string("run"), (dir / "scenario.yaml").string(), std::string("--run-dir"),
                          (dir / "runs").string(), std::string("--json"), (dir / "out.json").string()}) {
        argv.push_back(a);
    }
    ChildProcess cli(argv, dir / "stderr");
    CliRun out;
    while (const auto line = cli.read_line(std::chrono::seconds(60))) out.output += *line + "\n";
    out.exit = cli.wait(std::chrono::seconds(10));
    std::ifstream in(dir / "out.json");
    out.report = json::parse(in, nullptr, false);
    if (!out.report.is_discarded() && !out.report["runs"].empty()) out.run_dir = out.report["runs"][0]["run_dir"].get<std::string>();
    return out;
}

std::vector<pid_t> helpers_of(const fs::path& run_dir) {
    std::ifstream in(run_dir / "target-1.stdout");
    std::string word;
    std::vector<pid_t> pids;
    in >> word;  // "helpers"
    for (pid_t pid = 0; in >> pid;) pids.push_back(pid);
    return pids;
}

std::vector<json> events_of(const fs::path& run_dir, const std::string& type) {
    std::ifstream in(run_dir / "events.jsonl");
    std::vector<json> out;
    for (std::string line; std::getline(in, line);) {
        auto e = json::parse(line, nullptr, false);
        if (!e.is_discarded() && e["type"] == type) out.push_back(e);
    }
    return out;
}

// Item 6 of issue 7: a double-forked setsid daemon passed `orphans` and survived lastcall.
class DaemonContainment : public ::testing::TestWithParam<const char*> {};

TEST_P(DaemonContainment, DoubleForkedSetsidDaemonIsNamedAndKilled) {
    std::vector<std::string> env;
    if (std::string(GetParam()) == "scan") env.push_back("LASTCALL_CGROUP=off");
    const auto run = run_cli(misbehaving_target("daemon", "  - at: 500ms\n    signal: TERM"), env);
    ASSERT_TRUE(run.exit) << run.output;
    EXPECT_EQ(run.exit->code, 1) << run.output;
    const auto orphans = run.check("orphans");
    ASSERT_FALSE(orphans.is_null()) << run.output;
    EXPECT_EQ(orphans["status"], "fail") << orphans.dump();
    EXPECT_EQ(orphans["measured"], "1");
    const auto evidence = orphans["evidence"].dump();
    EXPECT_NE(evidence.find("left lastcall's session (setsid)"), std::string::npos) << evidence;
    const auto helpers = helpers_of(run.run_dir);
    ASSERT_EQ(helpers.size(), 1u);
    EXPECT_NE(evidence.find("pid " + std::to_string(helpers[0])), std::string::npos) << evidence;
    EXPECT_FALSE(running(helpers[0])) << "the daemon survived lastcall";
}

INSTANTIATE_TEST_SUITE_P(Containment, DaemonContainment, ::testing::Values("cgroup", "scan"));

// Item 17: orphaned grandchildren (CGI helpers) must be reaped the moment they exit, or a server
// that waits for them to go away never sees it and cannot shut down.
// drain_tail takes time off only where the kernel showed the target waiting uninterruptibly (D). A
// vfork parent waits so until its child execs or exits: a real D state without a stalled disk.
TEST(ProcReader, ThreadsInUninterruptibleWaitAreCounted) {
    const pid_t parent = ::fork();
    if (parent == 0) {
        if (::vfork() == 0) {
            ::usleep(1'000'000);
            ::_exit(0);
        }
        ::_exit(0);
    }
    ASSERT_GT(parent, 0);
    int seen = 0;
    for (int i = 0; i < 80 && seen == 0; ++i) {
        seen = count_threads_waiting_on_disk(parent);
        if (seen == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(seen, 1);
    int status = 0;
    ::waitpid(parent, &status, 0);
    EXPECT_EQ(count_threads_waiting_on_disk(::getpid()), 0);  // this test's threads sleep interruptibly
    EXPECT_EQ(count_threads_waiting_on_disk(parent), -1);     // gone
}

// Only a pending SIGKILL counts as "dying" (the orphans check leaves such a process out): another
// pending signal does not, nor does a plain running process. (A SIGKILL that stays pending needs an
// uninterruptible wait that SIGKILL cannot end, a stalled disk, which a test cannot make.)
TEST(ProcReader, OnlyAPendingSigkillIsDying) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    if (child == 0) {
        sigset_t usr1;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        ::sigprocmask(SIG_BLOCK, &usr1, nullptr);
        ::write(ready[1], "x", 1);
        ::usleep(2'000'000);
        ::_exit(0);
    }
    ASSERT_GT(child, 0);
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);
    EXPECT_FALSE(sigkill_pending(child));
    ::kill(child, SIGUSR1);  // blocked: stays pending
    bool usr1_seen = false;
    for (int i = 0; i < 50 && !usr1_seen; ++i) {
        std::ifstream in("/proc/" + std::to_string(child) + "/status");
        const std::string status{std::istreambuf_iterator<char>(in), {}};
        usr1_seen = status.find("ShdPnd:\t0000000000000200") != std::string::npos;
        if (!usr1_seen) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(usr1_seen) << "SIGUSR1 should be pending";
    EXPECT_FALSE(sigkill_pending(child)) << "a pending SIGUSR1 is not a SIGKILL";
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    EXPECT_FALSE(sigkill_pending(child)) << "gone: unreadable is false";
    ::close(ready[0]);
    ::close(ready[1]);
}

TEST(Supervisor, OrphanedGrandchildrenAreReapedAtOnce) {
    const auto run = run_cli(misbehaving_target("cgi", "  - at: 1s\n    signal: TERM"));
    ASSERT_TRUE(run.exit) << run.output;
    const auto exit = run.check("exit");
    ASSERT_FALSE(exit.is_null()) << run.output;
    EXPECT_EQ(exit["measured"], "exit 0") << "the target waited for zombies lastcall did not reap";
    const auto reaped = events_of(run.run_dir, "reaped");
    const auto helpers = helpers_of(run.run_dir);
    ASSERT_EQ(helpers.size(), 3u);
    for (const auto pid : helpers) {
        const bool recorded = std::any_of(reaped.begin(), reaped.end(), [pid](const json& e) { return e["pid"] == pid; });
        EXPECT_TRUE(recorded) << "pid " << pid << " was not recorded as reaped";
    }
    for (const auto& e : reaped) {
        if (e["pid"] == helpers[0]) {
            EXPECT_EQ(e["status"], "exit 0");
            EXPECT_LT(e["t_us"].get<std::int64_t>(), 900'000) << "reaped when it exited, before the signal";
        }
    }
}

// Item 16: Ctrl+C while the target is not ready yet ends the run at once (not after the ready timeout).
TEST(Supervisor, InterruptWhileWaitingForReadinessEndsAtOnce) {
    const auto dir = fresh_test_dir();
    std::ofstream(dir / "scenario.yaml") << "name: never-ready\ntarget:\n  command: [sleep, '300']\n  ready: {tcp: true, timeout: 60s}\n"
                                         "timeline: [{at: 1s, signal: TERM}]\n";
    ChildProcess cli({LASTCALL_BINARY, "run", (dir / "scenario.yaml").string(), "--run-dir", (dir / "runs").string()}, dir / "stderr");
    ASSERT_TRUE(cli.read_line(std::chrono::seconds(10))) << "lastcall did not start the run";
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the supervisor is inside its readiness wait
    cli.signal(SIGINT);
    const auto exit = cli.wait(std::chrono::seconds(10));
    ASSERT_TRUE(exit) << "Ctrl+C was not honoured during the readiness wait";
    EXPECT_EQ(exit->code, 130);
    for (const auto& entry : fs::recursive_directory_iterator(dir / "runs")) {
        if (entry.path().filename() != "run.json") continue;
        std::ifstream in(entry.path());
        const auto run = json::parse(in);
        EXPECT_TRUE(run["interrupted"].get<bool>());
        const auto pid = run["generations"][0]["pid"].get<pid_t>();
        EXPECT_FALSE(running(pid)) << "the target survived Ctrl+C";
    }
}

// Item 10: a target that never starts is an error in the JUnit file, the JSON and the summary.
TEST(Supervisor, TargetThatNeverStartsIsAnErrorInEveryReport) {
    const auto dir = fresh_test_dir();
    std::ofstream(dir / "scenario.yaml") << "name: broken\ntarget:\n  command: [sh, -c, 'echo bad config >&2; exit 7']\n  ready: {tcp: true}\n"
                                         "timeline: [{at: 1s, signal: TERM}]\n";
    ChildProcess cli({LASTCALL_BINARY, "run", (dir / "scenario.yaml").string(), "--run-dir", (dir / "runs").string(), "--junit",
                      (dir / "junit.xml").string(), "--json", (dir / "out.json").string()},
                     dir / "stderr");
    std::string output;
    while (const auto line = cli.read_line(std::chrono::seconds(30))) output += *line + "\n";
    const auto exit = cli.wait(std::chrono::seconds(10));
    ASSERT_TRUE(exit);
    EXPECT_EQ(exit->code, 3);
    EXPECT_NE(output.find("1 run: 0 passed, 0 failed, 1 could not run"), std::string::npos) << output;
    std::ifstream junit_in(dir / "junit.xml");
    const std::string junit{std::istreambuf_iterator<char>(junit_in), {}};
    EXPECT_NE(junit.find("errors=\"1\""), std::string::npos) << junit;
    EXPECT_NE(junit.find("<error message=\"the target exited with status 7 "), std::string::npos) << junit;
    std::ifstream json_in(dir / "out.json");
    const auto report = json::parse(json_in);
    EXPECT_FALSE(report["passed"].get<bool>());
    EXPECT_NE(report["runs"][0]["error"].get<std::string>().find("bad config"), std::string::npos);
}

RunResult run_in_process(const std::string& text) {
    RunOptions options;
    options.server_path = lastcall::testing::server_binary();
    options.run_dir = fresh_test_dir();
    return run_scenario(load_scenario_text(text, "test.yaml"), options);
}

// Item 9: a signal that cannot be delivered fails the run at once instead of waiting for max_duration.
TEST(Supervisor, UndeliveredSignalEndsTheRunAndFails) {
    const auto scenario = load_scenario_text(R"(name: no-child
target:
  command: ["{server}", "--port", "{port}", "--state-dir", "{workdir}/state"]
  ready: {http: /ready}
workloads:
  - name: fast
    request: {path: /fast}
timeline:
  - at: 300ms
    signal: TERM
    to: "child 1"
limits: {max_duration: 60s}
)",
                                             "test.yaml");
    RunOptions options;
    options.server_path = lastcall::testing::server_binary();
    options.run_dir = fresh_test_dir();
    const auto run = run_scenario(scenario, options);
    EXPECT_TRUE(run.ended_by_undelivered_signal);
    EXPECT_LT(run.duration_us, 30'000'000) << "the run waited for max_duration";
    ASSERT_EQ(run.signals.size(), 1u);
    EXPECT_FALSE(run.signals[0].delivered);
    const auto checks = evaluate_checks(scenario, run);
    const auto delivered = std::find_if(checks.begin(), checks.end(), [](const CheckResult& c) { return c.name == "signals_delivered"; });
    ASSERT_NE(delivered, checks.end());
    EXPECT_EQ(delivered->status, CheckStatus::fail);
    EXPECT_NE(delivered->evidence.at(0).find("has 0 children"), std::string::npos) << delivered->evidence.at(0);
}

// Item 8: a restart keeps each generation's output and report; the signalled one is judged.
TEST(Supervisor, RestartKeepsEachGenerationsOutputAndReport) {
    const auto run = run_in_process(R"(name: restart
target:
  command: ["{server}", "--port", "{port}", "--state-dir", "{workdir}/state"]
  ready: {http: /ready}
  shutdown_report: "{workdir}/state/shutdown-report.json"
workloads:
  - name: fast
    request: {path: /fast}
    keep_alive: false
timeline:
  - at: 300ms
    signal: TERM
  - when: exited
    stop_load: all
  - when: exited
    restart_target: true
limits: {max_duration: 20s}
)");
    ASSERT_EQ(run.start_error, "");
    ASSERT_EQ(run.generations.size(), 2u);
    for (const auto* file : {"target-1.stdout", "target-1.stderr", "target-2.stdout", "target-2.stderr", "shutdown-report-1.json"}) {
        EXPECT_TRUE(fs::exists(run.run_dir / file)) << file;
    }
    EXPECT_EQ(run.judged_generation, 1);
    EXPECT_EQ(run.report.state, TargetReportReading::State::ok) << run.report.detail;
    EXPECT_EQ(run.report.copy.filename(), "shutdown-report-1.json");
    std::ifstream first(run.run_dir / "target-1.stdout");
    EXPECT_TRUE(first.peek() != std::ifstream::traits_type::eof()) << "the first generation's output was truncated by the restart";
    EXPECT_TRUE(run.generations[1].killed_by_lastcall) << "the restarted one was ended by lastcall";
}

// Item 7: a report left in a fixed state dir by an earlier run is not this run's evidence.
TEST(Supervisor, ReportLeftByAnEarlierRunIsStale) {
    const auto state = fresh_test_dir("state");
    std::ofstream(state / "shutdown-report.json") << R"({"version":1,"signal_at_unix_us":1,"exit_code":0,"phases":[]})";
    const auto run = run_in_process(fmt::format(R"(name: stale
target:
  command: ["{{server}}", "--port", "{{port}}", "--state-dir", "{}"]
  ready: {{http: /ready}}
  shutdown_report: "{}/shutdown-report.json"
workloads:
  - name: fast
    request: {{path: /fast}}
timeline:
  - at: 300ms
    signal: KILL
limits: {{max_duration: 20s}}
)",
                                                state.string(), state.string()));
    ASSERT_EQ(run.start_error, "");
    EXPECT_EQ(run.report.state, TargetReportReading::State::stale) << run.report.detail;
    EXPECT_FALSE(run.report.report);
}

// Item 14: `host: localhost` aborted lastcall and `::1` never became ready (IPv4-only probe).
class HostSpelling : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(HostSpelling, RunsAgainstAServerOnThatAddress) {
    const auto [host, bind] = GetParam();
    const auto resolved = resolve_host(host);
    if (!resolved.address) GTEST_SKIP() << host << " does not resolve here: " << resolved.error;
    const auto run = run_in_process(fmt::format(R"(name: host-spelling
target:
  command: ["python3", "-m", "http.server", "{{port}}", "--bind", "{}"]
  host: "{}"
  ready: {{http: /, timeout: 10s}}
workloads:
  - name: get
    request: {{path: /}}
    think: 20ms
timeline:
  - at: 500ms
    signal: INT
limits: {{max_duration: 10s}}
)",
                                                bind, host));
    if (run.start_error.find("Cannot assign requested address") != std::string::npos) GTEST_SKIP() << "no " << bind << " here";
    ASSERT_EQ(run.start_error, "");
    EXPECT_GT(run.outcomes[static_cast<std::size_t>(Outcome::ok)], 0u) << "requests over " << host;
    EXPECT_TRUE(run.port_released);
}

INSTANTIATE_TEST_SUITE_P(Loopback, HostSpelling,
                         ::testing::Values(std::pair{"localhost", "127.0.0.1"}, std::pair{"::1", "::1"}, std::pair{"127.0.0.1", "127.0.0.1"}),
                         [](const auto& param) { return std::string(param.index == 0 ? "localhost" : param.index == 1 ? "ipv6" : "ipv4"); });

} // namespace
} // namespace lastcall::harness

// The self-test: for every faulty mode of lastcall-server, the scenario meant to catch it fails
// with the right check, and the same scenario passes against the correct server. A harness whose
// checks cannot fail proves nothing; this is where each one is shown to fail for the right reason.
#include "checks.hpp"
#include "scenario_loader.hpp"
#include "scenario_run.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdlib>
#include <string_view>

#include <sys/prctl.h>
#include <unistd.h>

namespace lastcall::harness {
namespace {

struct Case {
    Case(std::string fault_, std::string scenario_, std::string catches_, bool own_ = false, std::string target_ = {}, bool alone_ = false)
        : fault(std::move(fault_)), scenario(std::move(scenario_)), catches(std::move(catches_)), own(own_), target(std::move(target_)),
          alone(alone_) {}
    std::string fault;     // lastcall-server's --fault; empty: the correct server (or `target`)
    std::string scenario;  // file in scenarios/ (or tests/selftest/scenarios/ when `own`, unless in demonstrations/)
    std::string catches;   // the check that must fail (empty: all must pass)
    bool own = false;      // a scenario of the self-test's own, for what no faulty mode shows
    std::string target;    // {server} for it; empty: lastcall-server
    bool alone = false;    // `catches` must be the only check that fails
};

// The library's demonstrations (scenarios/demonstrations/, not run by `lastcall run scenarios/`)
// are `own` rows too: each shows a failure no faulty mode of lastcall-server stands for.
constexpr std::string_view demonstrations = "demonstrations/";

bool is_demonstration(const Case& c) { return c.scenario.rfind(demonstrations, 0) == 0; }

std::string scenario_file(const Case& c) {
    const bool selftest_own = c.own && !is_demonstration(c);
    return std::string(selftest_own ? LASTCALL_SELFTEST_SCENARIOS_DIR : LASTCALL_SCENARIOS_DIR) + "/" + c.scenario + ".yaml";
}

// Whether `program` can be found as execvp would (the tini row is skipped without tini, as the zoo is).
bool on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    for (std::size_t start = 0; start <= dirs.size();) {
        const auto end = std::min(dirs.find(':', start), dirs.size());
        if (::access((dirs.substr(start, end - start) + "/" + program).c_str(), X_OK) == 0) return true;
        start = end + 1;
    }
    return false;
}

std::string label(const Case& c) {
    if (is_demonstration(c)) return "demonstration_" + c.scenario.substr(demonstrations.size());
    if (c.own) return "silent_" + c.scenario;
    return c.fault.empty() ? "correct_" + c.scenario : c.fault + (c.scenario == "slow-requests" ? "" : "_" + c.scenario);
}
void PrintTo(const Case& c, std::ostream* out) { *out << label(c); }

const std::vector<Case> matrix{
    {"no-drain", "slow-requests", "dropped"},
    {"ignore-sigterm", "slow-requests", "exit"},
    {"keep-idle", "idle-keepalive", "shutdown_time"},
    {"no-close-header", "slow-requests", "close_announced"},
    {"truncate-streams", "sse-streams", "streams_clean"},
    {"checkpoint-early", "counter-durability", "acked_writes_durable"},
    {"skip-checkpoint", "counter-durability", "acked_writes_durable"},
    {"checkpoint-early", "set-durability", "acked_writes_durable"},  // the set model, on the same journal
    {"ack-before-durable", "sigkill-counter", "acked_writes_durable"},
    {"leak-fd", "slow-requests", "fd_leak"},
    {"orphan-child", "slow-requests", "orphans"},
    {"slow-exit", "slow-requests", "shutdown_time"},
    {"no-ready-flip", "drain-delay", "readiness_flip"},
    // Every stream still ends cleanly and completes; only the resumption is wrong.
    {"forget-stream-positions", "sse-resume", "streams_resumed", false, {}, true},
    // Silent passes of the past (issue 7): each is now a failure for the right reason.
    {"ignore-sigterm", "sse-streams", "streams_clean"},  // streams still open when killed were "clean"
    {"", "orphan-daemon", "orphans", true, MISBEHAVING_TARGET},  // a double-forked setsid daemon escaped
    {"", "undelivered-signal", "signals_delivered", true},  // shown as sent; the run waited for max_duration
    {"", "idle-workload", "workloads_ran", true},  // a workload that never ran passed
    // target.pid1 (PID 1 of a PID namespace, as in a container): TERM never reaches a server without a
    // handler, nor one behind a shell; tini forwards it.
    {"", "demonstrations/pid1-no-handler", "exit", true},
    {"", "demonstrations/pid1-shell-form", "exit", true},
    {"", "pid1-tini", ""},
    // Master and workers (issue 10).
    {"master-no-forward", "prefork-drain", "workers_drained"},  // workers never told: killed at the timeout
    {"reload-gap", "prefork-reload", "zero_downtime"},           // old workers stopped before new ones were ready
    {"no-kill-escalation", "prefork-escalation", "shutdown_time"},  // stragglers never killed
    // The load-balancer race (lastcall's proxy keeps routing 1 s after SIGTERM): a correct server
    // without a drain delay has its listener closed under the proxy's new requests.
    {"", "demonstrations/lb-race-no-drain-delay", "dropped", true},
    {"", "slow-requests", ""},
    {"", "idle-keepalive", ""},
    {"", "sse-streams", ""},
    {"", "counter-durability", ""},
    {"", "set-durability", ""},
    {"", "drain-delay", ""},
    {"", "sse-resume", ""},
    {"", "prefork-drain", ""},
    {"", "prefork-reload", ""},
    {"", "prefork-reload-soak", ""},  // 20 reloads, 600 ms apart, at the load of fast-requests
    {"", "prefork-worker-crash", ""},
    {"", "prefork-escalation", ""},
    // Durable state shared by the workers (STATE/counter.db): a SIGKILL of the whole group loses
    // what was acknowledged from memory.
    {"ack-before-durable", "sigkill-counter-prefork", "acked_writes_durable"},
    {"", "sigkill-counter-prefork", ""},
    {"", "counter-durability-prefork", ""},
    {"", "set-durability-prefork", ""},
    {"", "lb-race-drain-delay", ""},
};

class SelfTest : public ::testing::TestWithParam<Case> {};

TEST_P(SelfTest, ScenarioCatchesTheFaultWithTheRightCheck) {
    const auto& c = GetParam();
    const auto scenario = load_scenario_file(scenario_file(c));
    if (scenario.target.command.front() != "{server}" && !on_path(scenario.target.command.front())) {
        GTEST_SKIP() << scenario.target.command.front() << " is not installed (scripts/setup installs it)";
    }
    RunOptions options;
    options.server_path = c.target.empty() ? LASTCALL_SERVER_BINARY : c.target;
    options.run_dir = std::filesystem::path(::testing::TempDir()) / fmt::format("lastcall-selftest-{}", ::getpid()) / label(c);
    // As the CLI: lastcall is the child subreaper (each test runs in its own process under ctest).
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    options.adopt_orphans = true;
    if (!c.fault.empty()) options.extra_target_args = {"--fault", c.fault};
    const auto run = run_scenario(scenario, options);
    if (!run.skipped.empty()) GTEST_SKIP() << run.skipped;  // target.pid1 where no PID namespace can be made
    ASSERT_EQ(run.start_error, "") << "the run could not start";
    const auto checks = evaluate_checks(scenario, run);

    std::vector<std::string> failed;
    for (const auto& check : checks) {
        if (check.status == CheckStatus::fail) failed.push_back(check.name);
    }
    std::string failed_text;
    for (const auto& name : failed) failed_text += (failed_text.empty() ? "" : ",") + name;
    const bool caught = c.catches.empty() ? failed.empty() : std::find(failed.begin(), failed.end(), c.catches) != failed.end();
    // One row of the matrix, as the table in the test output.
    std::printf("| %-16s | %-19s | %-20s | %-44s | %s |\n", c.fault.empty() ? "(correct)" : c.fault.c_str(), c.scenario.c_str(),
                c.catches.empty() ? "(all pass)" : c.catches.c_str(), failed_text.empty() ? "-" : failed_text.c_str(), caught ? "ok" : "MISSED");
    std::fflush(stdout);
    if (c.catches.empty()) {
        EXPECT_TRUE(failed.empty()) << "the correct server failed: " << failed_text;
        for (const auto& check : checks) {
            if (check.status == CheckStatus::fail) {
                ADD_FAILURE() << check.name << ": " << check.message << " (bound " << check.bound << ", measured " << check.measured << ")";
            }
        }
    } else {
        EXPECT_TRUE(caught) << c.scenario << " did not catch --fault " << c.fault << " with " << c.catches << "; failed: " << failed_text;
        if (c.alone) EXPECT_EQ(failed_text, c.catches) << "only " << c.catches << " may fail";
    }
    if (!HasFailure()) std::filesystem::remove_all(options.run_dir->parent_path());  // kept when it failed, to look at
}

INSTANTIATE_TEST_SUITE_P(Matrix, SelfTest, ::testing::ValuesIn(matrix), [](const auto& param_info) {
    auto name = label(param_info.param);
    std::replace(name.begin(), name.end(), '-', '_');
    std::replace(name.begin(), name.end(), '/', '_');
    return name;
});

} // namespace
} // namespace lastcall::harness

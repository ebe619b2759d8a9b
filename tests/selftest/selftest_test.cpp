// The self-test: for every faulty mode of lastcall-server, the scenario meant to catch it fails
// with the right check, and the same scenario passes against the correct server. A harness whose
// checks cannot fail proves nothing; this is where each one is shown to fail for the right reason.
#include "checks.hpp"
#include "scenario_loader.hpp"
#include "scenario_run.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <sys/prctl.h>
#include <unistd.h>

namespace lastcall::harness {
namespace {

struct Case {
    Case(std::string fault_, std::string scenario_, std::string catches_, bool own_ = false, std::string target_ = {}, bool alone_ = false)
        : fault(std::move(fault_)), scenario(std::move(scenario_)), catches(std::move(catches_)), own(own_), target(std::move(target_)),
          alone(alone_) {}
    std::string fault;     // lastcall-server's --fault; empty: the correct server (or `target`)
    std::string scenario;  // file in scenarios/ (or tests/selftest/scenarios/ when `own`)
    std::string catches;   // the check that must fail (empty: all must pass)
    bool own = false;      // a scenario of the self-test's own, for what no faulty mode shows
    std::string target;    // {server} for it; empty: lastcall-server
    bool alone = false;    // `catches` must be the only check that fails
};

// scenarios/demonstrations/: scenarios that must fail against the correct server (outside
// `lastcall run scenarios/`), each an `own` row.
constexpr std::string_view demonstrations = "demonstrations/";

std::string scenario_file(const Case& c) {
    const bool selftest_own = c.own && !c.scenario.starts_with(demonstrations);
    return std::string(selftest_own ? LASTCALL_SELFTEST_SCENARIOS_DIR : LASTCALL_SCENARIOS_DIR) + "/" + c.scenario + ".yaml";
}

std::string label(const Case& c) {
    if (c.scenario.starts_with(demonstrations)) return "demo_" + c.scenario.substr(demonstrations.size());
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
    {"", "lb-race-drain-delay", ""},
};

class SelfTest : public ::testing::TestWithParam<Case> {};

TEST_P(SelfTest, ScenarioCatchesTheFaultWithTheRightCheck) {
    const auto& c = GetParam();
    const auto scenario = load_scenario_file(scenario_file(c));
    RunOptions options;
    options.server_path = c.target.empty() ? LASTCALL_SERVER_BINARY : c.target;
    options.run_dir = std::filesystem::path(::testing::TempDir()) / fmt::format("lastcall-selftest-{}", ::getpid()) / label(c);
    // As the CLI: lastcall is the child subreaper (each test runs in its own process under ctest).
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    options.adopt_orphans = true;
    if (!c.fault.empty()) options.extra_target_args = {"--fault", c.fault};
    const auto run = run_scenario(scenario, options);
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
    return name;
});

} // namespace
} // namespace lastcall::harness

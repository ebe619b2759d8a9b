// A target that took no request before the signal (an `nc -l` whose backlog is full) tested
// nothing: a setup error, not a pass made of refusals that looked clean. Real processes throughout.
#include "checks.hpp"
#include "child_process.hpp"
#include "judged_run.hpp"
#include "live_view.hpp"
#include "reference_server.hpp"
#include "scenario_loader.hpp"
#include "scenario_run.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

namespace lastcall::harness {
namespace {


RunResult run_text(const std::string& text, const std::string& dir) {
    return run_scenario(load_scenario_text(text, "test.yaml"), test_run_options(dir));
}

std::string target_scenario(const std::string& mode, const std::string& signal_at) {
    return R"(name: answered-nothing
target:
  command: ["python3", ")" + std::string(MISBEHAVING_TARGET) + R"(", "{port}", ")" + mode + R"("]
workloads:
  - name: get
    request: {path: "/fast"}
    connections: 2
timeline:
  - at: )" + signal_at + R"(
    signal: TERM
limits: {max_duration: 10s}
expect: {exit: [0, TERM]}
)";
}

// The load's connects hang in a full backlog (the SYN is sent again a second later) and are refused
// once the target died at the signal: begun before it, they are no clean rejections (`dropped`,
// with the kernel's word that the SYN went unanswered), and the run is a setup error naming them.
TEST(HarnessRun, TargetThatTookNoRequestBeforeTheSignalIsASetupError) {
    const auto result = run_text(target_scenario("full", "500ms"), "-full");
    EXPECT_NE(result.start_error.find("the target answered nothing before the signal at "), std::string::npos) << result.start_error;
    EXPECT_NE(result.start_error.find("ended connect_refused at "), std::string::npos) << result.start_error;
    EXPECT_EQ(result.outcomes[static_cast<std::size_t>(Outcome::rejected)], 0u) << "no refusal of a connect held across the signal is clean";
    EXPECT_GT(result.outcomes[static_cast<std::size_t>(Outcome::dropped)], 0u);
    std::ifstream history(result.run_dir / "history.jsonl");
    std::string line;
    int held = 0;
    while (std::getline(history, line)) held += line.find(R"("syn_retried":true)") != std::string::npos && line.find(R"("connect_us":)") != std::string::npos;
    EXPECT_GT(held, 0) << "history.jsonl says when the connects began and that their SYN was sent again";
}

// A target that leaves SYNs unanswered, closes its listener at the signal and lingers: the resent
// SYNs are refused while the run goes on, and the live line counted them `rejected` where the
// verdict said `dropped` (a new user read "rejected 27" live, then "27 dropped"). After the signal
// the live line says its failure counts are provisional.
TEST(HarnessRun, LiveOutcomesAfterTheSignalAreSaidProvisional) {
    auto options = test_run_options("-full-drain");
    std::vector<std::string> lines_with_refusals;
    std::vector<std::string> lines_after_the_signal;
    options.progress = [&](const LiveStatus& s) {
        const auto line = live_line(s, 0, 0, std::nullopt, {0, false, false});
        if (s.counts.by_outcome[static_cast<std::size_t>(Outcome::rejected)] > 0) lines_with_refusals.push_back(line);
        if (s.provisional) lines_after_the_signal.push_back(line);
    };
    const auto result = run_scenario(load_scenario_text(target_scenario("full_drain", "300ms"), "test.yaml"), options);
    EXPECT_GT(result.outcomes[static_cast<std::size_t>(Outcome::dropped)], 0u) << "the verdict: refusals held across the signal";
    ASSERT_FALSE(lines_with_refusals.empty()) << "the live line saw refusals while the target lingered";
    for (const auto& line : lines_with_refusals) EXPECT_NE(line.find("(provisional: "), std::string::npos) << line;
    EXPECT_FALSE(lines_after_the_signal.empty());
}

// The same targets where the run legitimately judges something: one that accepts but never answers
// was sent requests (its shutdown is judged, and fails), and the reference server passes.
TEST(HarnessRun, TargetThatTookRequestsIsJudgedNotASetupError) {
    std::vector<CheckResult> checks;
    const auto silent = run_and_judge(target_scenario("silent", "500ms"), checks, "-silent");
    EXPECT_TRUE(silent.start_error.empty()) << silent.start_error;
    EXPECT_GT(silent.outcomes[static_cast<std::size_t>(Outcome::dropped)], 0u);
    // Its requests were dropped at its exit, rightly; the check says the cause may be no HTTP
    // server at all (a new user's `nc -lk` target read only "dropped 18").
    const auto dropped = std::find_if(checks.begin(), checks.end(), [](const CheckResult& c) { return c.name == "dropped"; });
    ASSERT_NE(dropped, checks.end());
    EXPECT_EQ(dropped->status, CheckStatus::fail);
    EXPECT_NE(dropped->message.find("the target sent no byte back to any request of the run"), std::string::npos) << dropped->message;

    const auto server = run_text(R"(name: served
target:
  command: ["{server}", "--port", "{port}", "--state-dir", "{workdir}/state"]
  ready: {http: /ready, timeout: 5s}
workloads:
  - name: get
    request: {path: "/fast"}
    connections: 2
timeline:
  - at: 0s
    signal: TERM
limits: {max_duration: 10s}
)", "-signal-at-start");
    EXPECT_TRUE(server.start_error.empty()) << server.start_error;
}

} // namespace
} // namespace lastcall::harness

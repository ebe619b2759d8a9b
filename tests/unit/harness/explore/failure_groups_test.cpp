// Distinct failures: grouped by failing checks and evidence shape; one finding per group, with how
// many trials failed that way, its header naming what the minimal scenario fails.
#include "explore/explore_loop.hpp"
#include "explore/explore_report.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>

namespace lastcall::harness::explore {
namespace {

CheckResult check(const std::string& name, const std::string& message, std::vector<std::string> evidence = {}) {
    return CheckResult{name, "bound", "measured", CheckStatus::fail, message, std::move(evidence)};
}

TEST(FailureGroups, SameChecksAndEvidenceShapeAreOneGroupWithACount) {
    std::vector<FailureGroup> groups;
    const auto a = check("dropped", "2 requests were dropped", {"#3 slow conn 1: done 0.1s -> dropped (eof_before_response)"});
    const auto b = check("dropped", "5 requests were dropped", {"#9 fast conn 2: done 1.3s -> dropped (eof_before_response)"});
    const auto reset = check("dropped", "1 requests were dropped", {"#4 slow conn 1: done 0.2s -> dropped (reset)"});
    const auto exit = check("exit", "expected exit 0, saw killed by SIGTERM");
    EXPECT_EQ(add_to_group(groups, {a}, 1, "r1"), 0u);
    EXPECT_EQ(add_to_group(groups, {b}, 2, "r2"), 0u) << "other numbers, the same shape";
    EXPECT_EQ(add_to_group(groups, {reset}, 3, "r3"), 1u) << "another outcome is another kind";
    EXPECT_EQ(add_to_group(groups, {a, exit}, 4, "r4"), 2u) << "another set of failing checks is another kind";
    EXPECT_EQ(add_to_group(groups, {b, exit}, 5, "r5"), 2u);
    ASSERT_EQ(groups.size(), 3u);
    EXPECT_EQ(groups[0].trials, (std::vector<int>{1, 2}));
    EXPECT_EQ(groups[2].checks, (std::set<std::string>{"dropped", "exit"}));
    EXPECT_EQ(groups[2].run_dirs.size(), 2u);
}

TEST(FailureGroups, AFindingsHeaderNamesWhatTheMinimalScenarioFailsAndHowOftenItWasSeen) {
    ExploreSummary s;
    s.scenario = "generic.yaml";
    s.trials = 9;
    s.failures = 3;
    Finding f;
    f.name = "explore-generic-f1";
    f.checks = {"dropped", "exit"};                                   // what the trial failed
    f.failed = {check("exit", "expected exit 0, saw killed by SIGTERM")};  // what the minimal scenario fails
    f.reproduced = 5;
    f.reruns = 5;
    f.seen = 3;
    s.findings.push_back(f);
    const auto text = text_report(s);
    EXPECT_NE(text.find("FINDING explore-generic-f1: exit; fails 5 of 5 re-runs; 3 trial(s) failed this way"), std::string::npos) << text;
    const auto json = json_report(s);
    EXPECT_NE(json.find("\"minimal_failing_checks\": [\n        \"exit\"\n      ]"), std::string::npos) << json;
    EXPECT_NE(json.find("\"trials_failed\": 3"), std::string::npos) << json;
}

TEST(FailureGroups, KindsWhoseTrialsShrinkToTheSameScenarioAreOneFinding) {
    Trial a;
    a.seed = 11;
    a.workloads = {{"sse", 1, 0}};
    a.reloads = {std::chrono::milliseconds(100)};
    Trial b = a;
    b.seed = 99;  // another trial's seed: the same scenario
    EXPECT_TRUE(same_scenario(a, b));
    b.workloads[0].connections = 2;
    EXPECT_FALSE(same_scenario(a, b));
}

} // namespace
} // namespace lastcall::harness::explore

namespace lastcall::harness::explore {
namespace {

// A new user ran a finding of "dropped, exit" said to fail "5 of 5 re-runs": under `lastcall run`
// only exit came back each time, dropped once in four. The report says each check's own rate when
// they differ, so the finding's secondary check reads as the flaky one it is.
TEST(FindingReproduction, EachChecksRateIsSaidWhenTheyDiffer) {
    ExploreSummary summary;
    summary.scenario = "generic.yaml";
    Finding f;
    f.name = "explore-generic-f1";
    f.checks = {"dropped", "exit"};
    f.reproduced = 5;
    f.reruns = 5;
    f.reproduced_by_check = {{"dropped", 1}, {"exit", 5}};
    summary.findings.push_back(f);
    const auto text = text_report(summary);
    EXPECT_NE(text.find("fails 5 of 5 re-runs (dropped 1/5, exit 5/5)"), std::string::npos) << text;
    const auto json = nlohmann::json::parse(json_report(summary));
    EXPECT_EQ(json["findings"][0]["reproduced_by_check"], (nlohmann::json{{"dropped", 1}, {"exit", 5}})) << json.dump();
    summary.findings[0].reproduced_by_check = {{"dropped", 5}, {"exit", 5}};
    const auto alike = text_report(summary);
    EXPECT_NE(alike.find("fails 5 of 5 re-runs;"), std::string::npos) << "no rates when they all came back: " << alike;
}

} // namespace
} // namespace lastcall::harness::explore

namespace lastcall::harness::explore {
namespace {

// A new user saw two findings of "dropped" and could not tell why they were two: their evidence
// differs in kind (eof_before_response in one, reset in the other), and each header says so.
TEST(FindingDifference, FindingsOfTheSameChecksSayWhatTheirEvidenceDiffersIn) {
    ExploreSummary s;
    s.scenario = "generic.yaml";
    const auto eof = check("dropped", "2 requests were dropped", {"#3 slow conn 1: done 0.1s -> dropped (eof_before_response)"});
    const auto reset = check("dropped", "1 requests were dropped", {"#4 slow conn 1: done 0.2s -> dropped (reset)"});
    const auto exit = check("exit", "expected exit 0, saw killed by SIGTERM");
    add_to_group(s.groups, {eof}, 1, "r1");
    add_to_group(s.groups, {reset}, 2, "r2");
    add_to_group(s.groups, {eof, exit}, 3, "r3");
    for (int i = 0; i < 3; ++i) {
        Finding f;
        f.name = fmt::format("explore-generic-f{}", i + 1);
        f.checks = i == 2 ? std::set<std::string>{"dropped", "exit"} : std::set<std::string>{"dropped"};
        f.reproduced = f.reruns = 5;
        s.findings.push_back(f);
        s.groups[static_cast<std::size_t>(i)].finding = i;
    }
    const auto text = text_report(s);
    EXPECT_NE(text.find("FINDING explore-generic-f1: dropped; fails 5 of 5 re-runs; 1 trial(s) failed this way\n"
                        "  apart from explore-generic-f2: the same failing checks, other evidence: here 'dropped (eof_before_response)'; "
                        "there 'dropped (reset)'\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("  apart from explore-generic-f1: the same failing checks, other evidence: here 'dropped (reset)'; there "
                        "'dropped (eof_before_response)'\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("apart from explore-generic-f3"), std::string::npos) << "other checks: apart for that reason alone: " << text;
    const auto json = nlohmann::json::parse(json_report(s));
    EXPECT_EQ(json["findings"][1]["apart_from"]["finding"], "explore-generic-f1");
    EXPECT_TRUE(json["findings"][2]["apart_from"].is_null());
}

} // namespace
} // namespace lastcall::harness::explore

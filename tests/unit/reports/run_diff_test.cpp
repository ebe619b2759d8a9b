// `lastcall diff`'s comparison on reports written by json_report: verdict changes found and
// tabled, latencies side by side, and reports it cannot compare refused saying why.
#include "reports.hpp"
#include "run_diff.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace lastcall::reports {
namespace {

namespace fs = std::filesystem;
using harness::CheckNumbers;
using harness::CheckResult;
using harness::CheckStatus;

struct TwoRuns {
    TwoRuns() {
        scenario.name = "demo";
        for (auto* v : {&a, &b}) {
            v->scenario = &scenario;
            v->checks = {CheckResult{"dropped", "<= 0", "0", CheckStatus::pass, "", {}, CheckNumbers{0, 0, std::nullopt, "requests", "<="}},
                         CheckResult{"shutdown_time", "< 3000.0ms", "200.0ms", CheckStatus::pass, "", {}, CheckNumbers{200, 3000, std::nullopt, "ms", "<"}},
                         CheckResult{"port_released", "released", "released", CheckStatus::pass, "", {}}};
        }
        a.run.run_dir = "runs/a";
        b.run.run_dir = "runs/b";
        for (int i = 0; i < 100; ++i) a.run.latency.record(10'000'000);  // 10 ms
        for (int i = 0; i < 100; ++i) b.run.latency.record(20'000'000);
    }
    harness::Scenario scenario;
    RunVerdict a, b;
};

TEST(RunDiff, SameVerdictsShowTheNumbersAndNoChange) {
    TwoRuns r;
    r.b.checks[1].numbers->value = 250;
    r.b.checks[1].measured = "250.0ms";
    const auto diff = diff_reports(json_report(r.a), "a", json_report(r.b), "b");
    EXPECT_FALSE(diff.verdict_changed());
    const auto table = diff_table(diff);
    EXPECT_NE(table.find("pass 200.0ms"), std::string::npos) << "as the console shows it: " << table;
    EXPECT_NE(table.find("pass 250.0ms (+25.0%)"), std::string::npos) << table;
    EXPECT_NE(table.find("pass 0 requests"), std::string::npos) << "a bare number with its unit: " << table;
    EXPECT_NE(table.find("pass released"), std::string::npos) << "no number: the display string: " << table;
    EXPECT_NE(table.find("(+100.0%)"), std::string::npos) << "p50 10 ms -> 20 ms: " << table;
    EXPECT_NE(table.find("no check changed verdict"), std::string::npos) << table;
}

// A closed loop's latency is from the send, an open loop's from the intended start: `p50 0.069 /
// 490.734 (+715182.1%)` with nothing said compared a schedule's waits with a service time.
TEST(RunDiff, LatencyMeasuredFromDifferentMomentsIsSaidSo) {
    TwoRuns r;
    r.scenario.workloads.resize(1);  // closed
    harness::Scenario open_scenario;
    open_scenario.name = "demo";
    open_scenario.workloads.resize(1);
    open_scenario.workloads[0].mode = harness::LoadMode::open;
    r.b.scenario = &open_scenario;
    const auto table = diff_table(diff_reports(json_report(r.a), "a", json_report(r.b), "b"));
    EXPECT_NE(table.find("latency measured differently: A's from each request's send (closed loops), B's from each request's intended start "
                         "on an open loop's schedule (waits behind slow responses count); no change in percent is given for latency (nor "
                         "p99_during_drain): it would not be the service's\n"),
              std::string::npos)
        << table;
    r.b.scenario = &r.scenario;
    const auto same = diff_table(diff_reports(json_report(r.a), "a", json_report(r.b), "b"));
    EXPECT_EQ(same.find("measured differently"), std::string::npos) << "the same base: " << same;
}

// The figures, not a percentage: `p50 10.000 / 20.000 (+100.0%)` with a note under it still read as
// a change of the service. Two real report.json files, read as `lastcall diff A B` reads them.
TEST(RunDiff, LatencyOfDifferentMomentsHasItsFiguresButNoPercentage) {
    TwoRuns r;
    r.scenario.workloads.resize(1);  // closed: from the send
    harness::Scenario open_scenario;
    open_scenario.name = "demo";
    open_scenario.workloads.resize(1);
    open_scenario.workloads[0].mode = harness::LoadMode::open;  // from the intended start
    r.b.scenario = &open_scenario;
    for (auto* v : {&r.a, &r.b}) {
        v->checks.push_back(CheckResult{"p99_during_drain", "measured", v == &r.a ? "10.0ms" : "20.0ms", CheckStatus::pass, "", {},
                                        CheckNumbers{v == &r.a ? 10.0 : 20.0, 0, std::nullopt, "ms", ""}});
    }
    const auto dir = testing::fresh_test_dir("-diff-bases");
    for (const auto& [name, v] : {std::pair{"a", &r.a}, std::pair{"b", &r.b}}) {
        fs::create_directories(dir / name);
        std::ofstream(dir / name / "report.json") << json_report(*v);
    }
    const auto table = diff_table(diff_runs(dir / "a", dir / "b"));
    EXPECT_NE(table.find("10.000"), std::string::npos) << "A's figures: " << table;
    EXPECT_NE(table.find("20.000"), std::string::npos) << "B's figures: " << table;
    EXPECT_EQ(table.find("%)"), std::string::npos) << "no percentage on latency rows nor p99_during_drain: " << table;
    EXPECT_NE(table.find("pass 200.0ms"), std::string::npos) << "other rows as ever: " << table;
    EXPECT_EQ(table.find("measured differently"), table.rfind("measured differently")) << "said once: " << table;

    r.b.scenario = &r.scenario;  // the same base: the change is given
    std::ofstream(dir / "b" / "report.json") << json_report(r.b);
    EXPECT_NE(diff_table(diff_runs(dir / "a", dir / "b")).find("(+100.0%)"), std::string::npos);
}

TEST(RunDiff, AVerdictThatChangedIsNamed) {
    TwoRuns r;
    r.b.checks[0] = CheckResult{"dropped", "<= 0", "3", CheckStatus::fail, "3 requests were dropped", {}, CheckNumbers{3, 0, std::nullopt, "requests", "<="}};
    r.b.checks.push_back(CheckResult{"fd_leak", "<= 16", "+0", CheckStatus::pass, "", {}});
    const auto diff = diff_reports(json_report(r.a), "a", json_report(r.b), "b");
    EXPECT_TRUE(diff.verdict_changed());
    const auto table = diff_table(diff);
    EXPECT_NE(table.find("FAIL 3 requests"), std::string::npos) << table;
    EXPECT_NE(table.find(" changed\n"), std::string::npos) << table;
    EXPECT_NE(table.find("1 check changed verdict (pass <-> fail): dropped\n"), std::string::npos) << table;
    EXPECT_NE(table.find("1 check judged in one run only (skipped or absent in the other; not a verdict change): fd_leak\n"), std::string::npos)
        << "fd_leak only B has: " << table;
}

// A user's reading of a diff: workloads_ran's value is the count of idle workloads (0 when all
// ran), so the table shows "2 of 2 ran", not "0"; the change in % only where a ratio means
// something (not 0 -> 143 on an exit status, not +1 -> +3 on fd growth).
TEST(RunDiff, ShowsWhatWasMeasuredAndAChangeInPercentOnlyForQuantities) {
    TwoRuns r;
    for (auto* v : {&r.a, &r.b}) {
        v->checks.push_back(CheckResult{"workloads_ran", "every workload made requests", "2 of 2 ran", CheckStatus::pass, "", {},
                                        CheckNumbers{0, 0, std::nullopt, "workloads", "=="}});
        v->checks.push_back(CheckResult{"exit", "exit 0 or SIGTERM", "exit 3", CheckStatus::fail, "expected exit 0", {},
                                        CheckNumbers{3, 0, std::nullopt, "exit status", "=="}});
        v->checks.push_back(CheckResult{"fd_leak", "<= 16", "+1", CheckStatus::pass, "", {}, CheckNumbers{1, 16, std::nullopt, "fds", "<="}});
    }
    r.b.checks[4].measured = "exit 143";
    r.b.checks[4].numbers->value = 143;
    r.b.checks[5].measured = "+3";
    r.b.checks[5].numbers->value = 3;
    const auto table = diff_table(diff_reports(json_report(r.a), "a", json_report(r.b), "b"));
    EXPECT_NE(table.find("pass 2 of 2 ran"), std::string::npos) << table;
    EXPECT_EQ(table.find("0 workloads"), std::string::npos) << table;
    EXPECT_TRUE(std::regex_search(table, std::regex("\nexit +FAIL exit 3 +FAIL exit 143\n"))) << "no % on an exit status: " << table;
    EXPECT_TRUE(std::regex_search(table, std::regex("\nfd_leak +pass \\+1 fds +pass \\+3 fds\n"))) << "no % on a growth: " << table;
}

// A check that applied in A and was skipped in B (no stream ended, say) is not a regression: shown
// apart, and no verdict changed (the exit code counts only pass <-> fail).
TEST(RunDiff, ACheckSkippedInOneRunIsShownApartNotAsAChangedVerdict) {
    TwoRuns r;
    r.a.checks.push_back(CheckResult{"streams_clean", "<= 0", "0", CheckStatus::pass, "", {}, CheckNumbers{0, 0, std::nullopt, "streams", "=="}});
    r.b.checks.push_back(CheckResult{"streams_clean", "-", "-", CheckStatus::skip, "no stream workload", {}});
    const auto diff = diff_reports(json_report(r.a), "a", json_report(r.b), "b");
    EXPECT_FALSE(diff.verdict_changed());
    const auto table = diff_table(diff);
    EXPECT_TRUE(std::regex_search(table, std::regex("\nstreams_clean +pass 0 streams +skip +one run only\n"))) << table;
    EXPECT_NE(table.find("\nno check changed verdict\n"), std::string::npos) << table;
    EXPECT_NE(table.find("1 check judged in one run only"), std::string::npos) << table;
}

// A run whose target never started has no checks: beside a passing run every check read `one run
// only` under "no check changed verdict" (exit 0), and nothing said B was a setup error. Said above
// the table with `lastcall run`'s exit status and words, each row marked, no "no check changed".
TEST(RunDiff, ARunThatCouldNotRunIsSaidWithItsErrorNotAsNoChange) {
    TwoRuns r;
    r.b.checks.clear();
    r.b.run.start_error = "the target exited with status 2 before it was ready\n  stderr: unknown flag --bogus-flag";
    const auto diff = diff_reports(json_report(r.a), "a", json_report(r.b), "b");
    ASSERT_TRUE(diff.b_not_run.has_value());
    EXPECT_TRUE(diff.b_not_run->setup_error);
    EXPECT_FALSE(diff.a_not_run.has_value());
    EXPECT_TRUE(diff.either_did_not_run());
    const auto table = diff_table(diff);
    EXPECT_NE(table.find("\nB could not run: setup error (`lastcall run` exited 3): the target exited with status 2 before it was ready\n"
                         "     stderr: unknown flag --bogus-flag\n"),
              std::string::npos)
        << table;
    EXPECT_TRUE(std::regex_search(table, std::regex("\ndropped +pass 0 requests +- +B did not run\n"))) << table;
    EXPECT_EQ(table.find("one run only"), std::string::npos) << table;
    EXPECT_EQ(table.find("no check changed verdict"), std::string::npos) << table;
    EXPECT_NE(table.find("\nno verdict compared: B did not run (setup error, exit 3); its checks were never judged\n"), std::string::npos) << table;
    // A run that passed, against itself, did run.
    EXPECT_FALSE(diff_reports(json_report(r.a), "a", json_report(r.a), "a").either_did_not_run());
}

// A run not made (target.pid1 without a PID namespace) has only its skipped target.pid1: it did not
// run either, whichever side it is on.
TEST(RunDiff, ARunSkippedIsSaidWithWhyAndBothSidesAreNamed) {
    TwoRuns r;
    r.a.run.skipped = "no PID namespace could be made (EPERM)";
    r.a.checks = {CheckResult{"target.pid1", "-", "-", CheckStatus::skip, "no PID namespace could be made (EPERM)", {}}};
    const auto diff = diff_reports(json_report(r.a), "a", json_report(r.b), "b");
    ASSERT_TRUE(diff.a_not_run.has_value());
    EXPECT_FALSE(diff.a_not_run->setup_error);
    const auto table = diff_table(diff);
    EXPECT_NE(table.find("\nA was not made: skipped (`lastcall run` exited 0, 3 with --strict): no PID namespace could be made (EPERM)\n"),
              std::string::npos)
        << table;
    EXPECT_TRUE(std::regex_search(table, std::regex("\ndropped +- +pass 0 requests +A did not run\n"))) << table;
    EXPECT_NE(table.find("\nno verdict compared: A did not run (skipped); its checks were never judged\n"), std::string::npos) << table;
    r.b.checks.clear();
    r.b.run.start_error = "the target never became ready";
    const auto neither = diff_table(diff_reports(json_report(r.a), "a", json_report(r.b), "b"));
    EXPECT_NE(neither.find("\nno verdict compared: A and B did not run (A: skipped; B: setup error, exit 3); their checks were never judged\n"),
              std::string::npos)
        << neither;
}

// Runs of unrelated scenarios compare their services under different loads, signals and bounds:
// said above the table (a new user diffed two such runs and got a table as if comparable). Runs of
// one scenario name whose file changed are said too; the same file twice says nothing.
TEST(RunDiff, RunsOfDifferentScenariosAreSaidSo) {
    TwoRuns r;
    r.scenario.file = "scenarios/demo.yaml";
    r.scenario.sha256 = std::string(64, 'a');
    EXPECT_EQ(diff_reports(json_report(r.a), "a", json_report(r.b), "b").scenario_warning, "");
    harness::Scenario other = r.scenario;
    other.name = "sse-streams";
    other.file = "scenarios/sse-streams.yaml";
    other.sha256 = std::string(64, 'b');
    r.b.scenario = &other;
    const auto table = diff_table(diff_reports(json_report(r.a), "a", json_report(r.b), "b"));
    EXPECT_NE(table.find("warning: A and B are runs of different scenarios ('demo' and 'sse-streams'; scenarios/demo.yaml sha256 "
                         "aaaaaaaaaaaa, scenarios/sse-streams.yaml sha256 bbbbbbbbbbbb)"),
              std::string::npos)
        << table;
    EXPECT_LT(table.find("warning:"), table.find("check ")) << "above the table: " << table;
    other.name = "demo";
    other.file = "scenarios/demo.yaml";
    const auto edited = diff_reports(json_report(r.a), "a", json_report(r.b), "b").scenario_warning;
    EXPECT_NE(edited.find("warning: the scenario 'demo' was not the same file in A and B"), std::string::npos) << edited;
}

// A check without a bound only measures: `info`, as on the console, not `pass`.
TEST(RunDiff, AMeasuredOnlyCheckIsInfoNotPass) {
    TwoRuns r;
    for (auto* v : {&r.a, &r.b}) {
        v->checks.push_back(CheckResult{"p99_during_drain", std::string(harness::measured_only_bound), "12.0ms", CheckStatus::pass, "", {},
                                        CheckNumbers{12, std::nullopt, std::nullopt, "ms", ""}});
    }
    const auto table = diff_table(diff_reports(json_report(r.a), "a", json_report(r.b), "b"));
    EXPECT_TRUE(std::regex_search(table, std::regex("\np99_during_drain +info 12.0ms +info 12.0ms\n"))) << table;
}

// A long value is shown whole, wrapped inside its column: the next column starts where it always does.
TEST(RunDiff, ALongValueWrapsInsideItsColumn) {
    TwoRuns r;
    const std::string long_value = "stream 17 cut after event 41 of 60 (truncated_stream) and 3 more like it";
    r.b.checks[2].measured = long_value;
    const auto table = diff_table(diff_reports(json_report(r.a), "a", json_report(r.b), "b"));
    std::string joined;
    std::istringstream lines(table);
    std::size_t port_lines = 0;
    bool in_row = false;
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("port_released", 0) == 0) in_row = true;
        else if (in_row && line.rfind(std::string(30 + 1 + 36 + 1, ' '), 0) != 0) in_row = false;
        if (!in_row) continue;
        ++port_lines;
        EXPECT_LE(line.size(), 30u + 1 + 36 + 1 + 36) << "B's cell stays in its column: " << table;
        joined += (joined.empty() ? "" : " ") + line.substr(30 + 1 + 36 + 1);
    }
    EXPECT_GT(port_lines, 1u) << table;
    EXPECT_EQ(joined, "pass " + long_value) << "whole, nothing cut: " << table;
    EXPECT_EQ(table.find('~'), std::string::npos) << table;
}

// A new user compared a run with its copy and both were labelled by the directory saved inside
// report.json, the same for both: each run is named by the path given, and the saved directory is
// added only where it says more (the copy), not where it is the path given.
TEST(RunDiff, RunsAreNamedByThePathGivenAndTheSavedDirectoryWhereItDiffers) {
    TwoRuns r;
    const auto dir = lastcall::testing::fresh_test_dir();
    for (const char* name : {"original", "copied"}) fs::create_directories(dir / name);
    r.a.run.run_dir = dir / "original";
    std::ofstream(dir / "original" / "report.json") << json_report(r.a);
    std::ofstream(dir / "copied" / "report.json") << json_report(r.a);
    const auto diff = diff_runs(dir / "copied", dir / "original" / "report.json");
    EXPECT_EQ(diff.a_title, "demo (" + (dir / "copied").string() + "; saved as " + (dir / "original").string() + ")");
    EXPECT_EQ(diff.b_title, "demo (" + (dir / "original" / "report.json").string() + ")");
    EXPECT_EQ(diff_table(diff).rfind("A: " + diff.a_title + "\nB: " + diff.b_title + "\n", 0), 0u) << diff_table(diff);
}

TEST(RunDiff, ReportsItCannotCompareAreRefusedSayingWhy) {
    TwoRuns r;
    const auto one = json_report(r.a);
    const auto expect_error = [&](const std::string& text, const std::string& why) {
        try {
            diff_reports(one, "a", text, "b.json");
            ADD_FAILURE() << "no error for " << text;
        } catch (const ReportError& e) {
            EXPECT_EQ(std::string(e.what()), why);
        }
    };
    expect_error("{", "b.json: not JSON (a run's report.json, or a suite's of one run)");
    expect_error(R"({"checks": []})", "b.json: not a lastcall report (no version)");
    expect_error(R"({"version": 2, "checks": []})", "b.json: report version 2, this lastcall reads version 1");
    expect_error(json_suite_report({r.a, r.b}), "b.json: a suite report of 2 runs; name one run's directory instead");
    const auto dir = lastcall::testing::fresh_test_dir();
    try {
        diff_runs(dir / "nosuch", dir);
        ADD_FAILURE() << "no error for a missing directory";
    } catch (const ReportError& e) {
        EXPECT_EQ(std::string(e.what()), (dir / "nosuch").string() + ": cannot read the file: No such file or directory");
    }
}

} // namespace
} // namespace lastcall::reports

// `lastcall diff`'s comparison on reports written by json_report: verdict changes found and
// tabled, latencies side by side, and reports it cannot compare refused saying why.
#include "reports.hpp"
#include "run_diff.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace lastcall::reports {
namespace {

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
    EXPECT_NE(table.find("pass 200 ms"), std::string::npos) << table;
    EXPECT_NE(table.find("pass 250 ms (+25.0%)"), std::string::npos) << table;
    EXPECT_NE(table.find("pass released"), std::string::npos) << "no number: the display string: " << table;
    EXPECT_NE(table.find("(+100.0%)"), std::string::npos) << "p50 10 ms -> 20 ms: " << table;
    EXPECT_NE(table.find("no check changed verdict"), std::string::npos) << table;
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
    EXPECT_NE(table.find("2 checks changed verdict"), std::string::npos) << "dropped, and fd_leak only B has: " << table;
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

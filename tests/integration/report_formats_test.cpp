// The reports of real runs, validated as CI users would: lastcall-server (correct, then with the
// no-drain fault) under scenarios/slow-requests.yaml through the CLI; report.json (the suite's and
// each run's) against reports/report.schema.json, junit.xml against tests/support/junit.xsd, and
// the numbers of each check agreeing with its verdict.
#include "child_process.hpp"
#include "report_validation.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>

namespace lastcall::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Reports {
    std::optional<ExitStatus> exit;
    fs::path dir;
    json suite;
    std::string junit;
    std::string output;
};

Reports run_slow_requests(const std::vector<std::string>& extra) {
    Reports r;
    r.dir = fresh_test_dir();
    std::vector<std::string> argv{LASTCALL_BINARY, "run", std::string(LASTCALL_SCENARIOS_DIR) + "/slow-requests.yaml", "--run-dir",
                                  (r.dir / "runs").string(), "--json", (r.dir / "suite.json").string(), "--junit", (r.dir / "junit.xml").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ChildProcess cli(argv, r.dir / "stderr");
    while (const auto line = cli.read_line(std::chrono::seconds(60))) r.output += *line + "\n";
    r.exit = cli.wait(std::chrono::seconds(10));
    std::ifstream suite(r.dir / "suite.json");
    r.suite = json::parse(suite, nullptr, false);
    std::ifstream junit(r.dir / "junit.xml");
    r.junit.assign(std::istreambuf_iterator<char>(junit), {});
    return r;
}

json check(const json& run, const std::string& name) {
    for (const auto& c : run["checks"]) {
        if (c["name"] == name) return c;
    }
    return nullptr;
}

// Where a check's verdict is its number against its bound, the two agree. readiness_flip judges by
// when probes left, not when the first failing answer came back; stuck_abandoned_within also needs
// a task abandoned: their numbers inform, the verdict rests on more.
void expect_numbers_agree_with_verdicts(const json& run) {
    for (const auto& c : run["checks"]) {
        if (c["status"] == "skip" || !c["value"].is_number() || !c["bound_value"].is_number()) continue;
        if (c["name"] == "readiness_flip" || c["name"] == "stuck_abandoned_within") continue;
        const double value = c["value"], bound = c["bound_value"];
        const auto& cmp = c["comparison"];
        const bool holds = cmp == "<" ? value < bound : cmp == "<=" ? value <= bound : cmp == "==" ? value == bound
                                                      : cmp == "between" ? value >= bound && value <= c["bound_upper"].get<double>()
                                                                         : false;
        EXPECT_EQ(holds, c["status"] == "pass") << c.dump();
    }
}

void expect_valid_reports(const Reports& r) {
    ASSERT_FALSE(r.suite.is_discarded()) << r.output;
    ASSERT_EQ(r.suite["runs"].size(), 1u) << r.output;
    const auto suite = validate_report_json(r.dir / "suite.json");
    EXPECT_TRUE(suite.valid) << suite.output;
    const fs::path run_dir = r.suite["runs"][0]["run_dir"].get<std::string>();
    const auto one = validate_report_json(run_dir / "report.json");
    EXPECT_TRUE(one.valid) << one.output;
    const auto junit = validate_junit_xml(r.dir / "junit.xml");
    EXPECT_TRUE(junit.valid) << junit.output << r.junit;
    const auto& run = r.suite["runs"][0];
    EXPECT_EQ(run["target_command"][1], "--port");
    EXPECT_NE(run["target_command"][2], "{port}") << "the argv as spawned";
    EXPECT_TRUE(run["began_at"].is_string() && run["load_started_at"].is_string()) << run.dump();
    expect_numbers_agree_with_verdicts(run);
    // Every test case took time: a check over the whole run took the run's; no time="0.000".
    EXPECT_EQ(r.junit.find("time=\"0.000\""), std::string::npos) << r.junit;
    EXPECT_NE(r.junit.find("<property name=\"run_dir\" value=\"" + run_dir.string() + "\"/>"), std::string::npos) << r.junit;
}

TEST(ReportFormats, ACorrectServersReportsAreValidAndCarryTheirNumbers) {
    const auto r = run_slow_requests({});
    ASSERT_TRUE(r.exit && r.exit->clean()) << r.output;
    expect_valid_reports(r);
    const auto& run = r.suite["runs"][0];
    const auto shutdown = check(run, "shutdown_time");
    EXPECT_EQ(shutdown["unit"], "ms");
    EXPECT_EQ(shutdown["bound_value"], 3000);
    EXPECT_GT(shutdown["value"].get<double>(), 0);
    const auto dropped = check(run, "dropped");
    EXPECT_EQ(dropped["value"], 0);
    EXPECT_EQ(dropped["comparison"], "<=");
    EXPECT_EQ(dropped["unit"], "requests");
    // The shutdown_time test case took the shutdown's time, to the millisecond the XML shows.
    const std::regex testcase(R"re(name="shutdown_time" time="(\d+\.\d{3})")re");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.junit, m, testcase)) << r.junit;
    EXPECT_NEAR(std::stod(m[1]), shutdown["value"].get<double>() / 1e3, 0.0006);
}

TEST(ReportFormats, AFailingRunsReportsAreValidAndTheFailureIsInTheNumbers) {
    // no-drain: SIGTERM kills the server under its slow requests.
    const auto r = run_slow_requests({"--target-arg", "--fault", "--target-arg", "no-drain"});
    ASSERT_TRUE(r.exit && r.exit->exited && r.exit->code == 1) << r.output;
    expect_valid_reports(r);
    const auto dropped = check(r.suite["runs"][0], "dropped");
    EXPECT_EQ(dropped["status"], "fail") << dropped.dump();
    EXPECT_GT(dropped["value"].get<double>(), dropped["bound_value"].get<double>()) << dropped.dump();
    EXPECT_NE(r.junit.find("<failure message=\""), std::string::npos) << r.junit;
}

} // namespace
} // namespace lastcall::testing

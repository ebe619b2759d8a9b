// The reports of real runs, validated as CI users would: lastcall-server (correct, then with the
// no-drain fault) under scenarios/slow-requests.yaml through the CLI; report.json (the suite's and
// each run's) against reports/report.schema.json, junit.xml against tests/support/junit.xsd, the
// numbers of each check agreeing with its verdict, and `lastcall diff` of the two.
#include "child_process.hpp"
#include "report_validation.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>
#include <regex>

namespace lastcall::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct CliOutput {
    std::optional<ExitStatus> exit;
    std::string text;
};

struct Reports {
    std::optional<ExitStatus> exit;
    fs::path dir;
    json suite;
    std::string junit;
    std::string output;
};

Reports run_slow_requests(const std::vector<std::string>& extra, const std::string& dir_suffix = "") {
    Reports r;
    r.dir = fresh_test_dir(dir_suffix);
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
    // Every test case took time (a 0.3 ms check is 0.001): a check over the whole run took the run's.
    EXPECT_EQ(r.junit.find("time=\"0.000\""), std::string::npos) << r.junit;
    EXPECT_NE(r.junit.find("<property name=\"run_dir\" value=\"" + run_dir.string() + "\"/>"), std::string::npos) << r.junit;
}

std::string report_html(const Reports& r) {
    std::ifstream in(fs::path(r.suite["runs"][0]["run_dir"].get<std::string>()) / "report.html");
    return {std::istreambuf_iterator<char>(in), {}};
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
    EXPECT_EQ(report_html(r).find("\u2717"), std::string::npos) << "no failed check to mark on the timeline";
    for (const auto& c : run["checks"]) EXPECT_TRUE(c.contains("at_us") && c["at_us"].is_null()) << "nothing failed, no moment: " << c.dump();
}

TEST(ReportFormats, AFailingRunsReportsAreValidAndTheFailureIsInTheNumbers) {
    // no-drain: SIGTERM kills the server (exit 143, always) under its requests (which of them are
    // cut, and so which request checks fail, depends on the moment: expect_valid_reports checks that
    // every verdict agrees with its numbers).
    const auto r = run_slow_requests({"--target-arg", "--fault", "--target-arg", "no-drain"});
    ASSERT_TRUE(r.exit && r.exit->exited && r.exit->code == 1) << r.output;
    expect_valid_reports(r);
    const auto exit = check(r.suite["runs"][0], "exit");
    EXPECT_EQ(exit["status"], "fail") << exit.dump();
    EXPECT_EQ(exit["value"], 143) << "killed by SIGTERM, as a shell shows it: " << exit.dump();
    EXPECT_EQ(exit["bound_value"], 0) << exit.dump();
    EXPECT_EQ(exit["comparison"], "==") << exit.dump();
    // A failed check carries its moment: the exit's, on the same clock as the report's exit.
    ASSERT_TRUE(exit.contains("at_us")) << exit.dump();
    EXPECT_EQ(exit["at_us"], r.suite["runs"][0]["exit"]["t_us"]) << exit.dump();
    for (const auto& c : r.suite["runs"][0]["checks"]) {
        if (c["status"] != "fail") EXPECT_TRUE(c.contains("at_us") && c["at_us"].is_null()) << "only a failure has a moment: " << c.dump();
    }
    EXPECT_NE(r.junit.find("<failure message=\"expected exit 0, saw killed by SIGTERM\" type=\"exit\">"), std::string::npos) << r.junit;
    // report.html marks the failed exit check on the timeline at the exit, beside the exit marker.
    const auto html = report_html(r);
    EXPECT_NE(html.find("fill=\"#c62828\">\u2717 exit</text>"), std::string::npos) << html;
}

CliOutput lastcall(const std::vector<std::string>& args, const fs::path& dir) {
    std::vector<std::string> argv{LASTCALL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess cli(argv, dir / "diff.stderr");
    CliOutput out;
    while (const auto line = cli.read_line(std::chrono::seconds(10))) out.text += *line + "\n";
    out.exit = cli.wait(std::chrono::seconds(10));
    std::ifstream err(dir / "diff.stderr");
    out.text += std::string(std::istreambuf_iterator<char>(err), {});
    return out;
}

// `lastcall diff` on the run directories of a correct and a failing run: the same run twice changes
// nothing (exit 0); against the failing one, exit is named changed (exit 1); a directory with no
// report is an error saying so (exit 2).
TEST(ReportFormats, DiffOfTwoRealRunsNamesTheVerdictThatChanged) {
    const auto good = run_slow_requests({}, "good");
    const auto bad = run_slow_requests({"--target-arg", "--fault", "--target-arg", "no-drain"}, "bad");
    ASSERT_FALSE(good.suite.is_discarded() || bad.suite.is_discarded()) << good.output << bad.output;
    const std::string a = good.suite["runs"][0]["run_dir"], b = bad.suite["runs"][0]["run_dir"];
    const auto same = lastcall({"diff", a, a}, good.dir);
    EXPECT_TRUE(same.exit && same.exit->exited && same.exit->code == 0) << same.text;
    EXPECT_NE(same.text.find("no check changed verdict"), std::string::npos) << same.text;
    const auto changed = lastcall({"diff", a, b + "/report.json"}, good.dir);
    EXPECT_TRUE(changed.exit && changed.exit->exited && changed.exit->code == 1) << changed.text;
    // As the console shows it, with no % change on an exit status.
    EXPECT_TRUE(std::regex_search(changed.text, std::regex(R"(\nexit +pass exit 0 +FAIL killed by SIGTERM +changed\n)"))) << changed.text;
    EXPECT_TRUE(std::regex_search(changed.text, std::regex(R"(\nworkloads_ran +pass 2 of 2 ran +pass 2 of 2 ran\n)"))) << changed.text;
    EXPECT_NE(changed.text.find("latency (ok requests, ms)"), std::string::npos) << changed.text;
    // Named by the path given; a copy also by where it was saved (a new user's diff of a run and its
    // copy labelled both by the saved directory).
    EXPECT_NE(changed.text.find("\nB: slow-requests (" + b + "/report.json)\n"), std::string::npos) << changed.text;
    const auto copy = (good.dir / "copied").string();
    std::filesystem::copy(a, copy, std::filesystem::copy_options::recursive);
    const auto copied = lastcall({"diff", copy, a}, good.dir);
    EXPECT_EQ(copied.text.rfind("A: slow-requests (" + copy + "; saved as " + a + ")\nB: slow-requests (" + a + ")\n", 0), 0u) << copied.text;
    const auto missing = lastcall({"diff", a, (good.dir / "nosuch").string()}, good.dir);
    EXPECT_TRUE(missing.exit && missing.exit->exited && missing.exit->code == 2) << missing.text;
    EXPECT_NE(missing.text.find("nosuch: cannot read the file: No such file or directory"), std::string::npos) << missing.text;
}

// A new user's diff of a passing run and one whose target could not start (`--bogus-flag`: `lastcall
// run` exits 3) said "no check changed verdict" and exited 0, every check `one run only`: a CI gate
// on diff passed it. It says which run could not run, with that run's error, and exits 3; either order.
TEST(ReportFormats, DiffAgainstARunThatCouldNotRunSaysSoAndExits3) {
    const auto good = run_slow_requests({}, "good");
    const auto broken = run_slow_requests({"--target-arg", "--bogus-flag"}, "broken");
    ASSERT_TRUE(good.exit && good.exit->clean()) << good.output;
    ASSERT_TRUE(broken.exit && broken.exit->exited && broken.exit->code == 3) << broken.output;
    ASSERT_FALSE(good.suite.is_discarded() || broken.suite.is_discarded()) << good.output << broken.output;
    const auto& broken_run = broken.suite["runs"][0];
    ASSERT_TRUE(broken_run["error"].is_string()) << broken_run.dump();
    const std::string a = good.suite["runs"][0]["run_dir"], b = broken_run["run_dir"], error = broken_run["error"];
    const auto first_line = error.substr(0, error.find('\n'));
    const auto diff = lastcall({"diff", a, b}, good.dir);
    EXPECT_TRUE(diff.exit && diff.exit->exited && diff.exit->code == 3) << diff.text;
    EXPECT_NE(diff.text.find("\nB could not run: setup error (`lastcall run` exited 3): " + first_line), std::string::npos) << diff.text;
    EXPECT_TRUE(std::regex_search(diff.text, std::regex(R"(\nexit +pass exit 0 +- +B did not run\n)"))) << diff.text;
    EXPECT_EQ(diff.text.find("no check changed verdict"), std::string::npos) << diff.text;
    EXPECT_EQ(diff.text.find("one run only"), std::string::npos) << diff.text;
    EXPECT_NE(diff.text.find("\nno verdict compared: B did not run (setup error, exit 3)"), std::string::npos) << diff.text;
    const auto reversed = lastcall({"diff", b, a}, good.dir);
    EXPECT_TRUE(reversed.exit && reversed.exit->exited && reversed.exit->code == 3) << reversed.text;
    EXPECT_NE(reversed.text.find("\nA could not run: setup error (`lastcall run` exited 3): " + first_line), std::string::npos) << reversed.text;
}

} // namespace
} // namespace lastcall::testing

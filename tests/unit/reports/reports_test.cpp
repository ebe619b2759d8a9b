// The report writers on a hand-made verdict: JUnit XML with every attribute GitLab and Jenkins
// read (validated against tests/support/junit.xsd), escaping that keeps the XML well-formed,
// report.json valid against reports/report.schema.json with its numbers, and an HTML file that
// needs no network.
#include "report_validation.hpp"
#include "reports.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>

namespace lastcall::reports {
namespace {

using harness::CheckResult;
using harness::CheckStatus;

struct Fixture {
    Fixture() {
        scenario.name = "demo";
        scenario.file = "scenarios/demo.yaml";
        scenario.description = "a demo";
        scenario.target.command = {"{server}", "--port", "{port}"};
        verdict.scenario = &scenario;
        verdict.run.duration_us = 1'500'000;
        verdict.run.seed = 42;
        verdict.run.run_dir = "runs/demo-1";
        verdict.run.began_unix_us = 1'796'440'211'123'456;  // 2026-12-05T03:10:11.123Z
        verdict.run.run_start_unix_us = verdict.run.began_unix_us + 300'000;
        verdict.run.target_command = {"/bin/lastcall-server", "--port", "4242"};
        verdict.run.workload_names = {"slow"};
        verdict.checks = {
            CheckResult{"dropped", "<= 0", "2", CheckStatus::fail, "2 requests were dropped", {"#1 slow: <reset> & \"cut\""},
                        harness::CheckNumbers{2, 0, std::nullopt, "requests", "<="}},
            CheckResult{"exit", "exit 0", "exit 0", CheckStatus::pass, "", {}},
            CheckResult{"jobs_accounted", "-", "-", CheckStatus::skip, "not expected", {}},
            CheckResult{"shutdown_time", "< 3000.0ms", "212.4ms", CheckStatus::pass, "", {}, harness::CheckNumbers{212.4, 3000, std::nullopt, "ms", "<"}},
        };
    }
    harness::Scenario scenario;
    RunVerdict verdict;
};

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

std::string written(const std::string& text, const std::string& name) {
    const auto path = lastcall::testing::fresh_test_dir() / name;
    std::ofstream(path) << text;
    return path.string();
}

// Jenkins allows 3 decimals; a span under half a millisecond must still not read as "not measured".
TEST(JunitReport, ASubMillisecondCheckTakesOneMillisecondNotZero) {
    Fixture f;
    f.verdict.checks = {CheckResult{"drain_tail", "< 250.0ms", "0.3ms", CheckStatus::pass, "", {},
                                    harness::CheckNumbers{0.3, 250, std::nullopt, "ms", "<"}}};
    const auto xml = junit_report({f.verdict});
    EXPECT_NE(xml.find("name=\"drain_tail\" time=\"0.001\""), std::string::npos) << xml;
    EXPECT_EQ(xml.find("time=\"0.000\""), std::string::npos) << xml;
}

TEST(JunitReport, CarriesWhatGitLabAndJenkinsRead) {
    Fixture f;
    const auto xml = junit_report({f.verdict});
    EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites ", 0), 0u) << xml;
    // No `skipped` on <testsuites>: Jenkins' xunit schema has no such attribute and rejects the file.
    EXPECT_NE(xml.find(R"(<testsuites name="lastcall" tests="4" failures="1" errors="0" time="1.500">)"), std::string::npos) << xml;
    EXPECT_TRUE(std::regex_search(
        xml, std::regex(R"re(<testsuite name="demo" tests="4" failures="1" errors="0" skipped="1" time="1\.500" timestamp="2026-12-0[45]T\d\d:\d\d:11(Z|[+-]\d\d:\d\d)">)re")))
        << xml;
    // GitLab shows classname as the suite: it must name the scenario. A check that judged the whole
    // run took the run's time; one that measured a span took that span.
    EXPECT_NE(xml.find(R"(<testcase classname="lastcall.demo" name="dropped" time="1.500">)"), std::string::npos) << xml;
    EXPECT_NE(xml.find(R"(<testcase classname="lastcall.demo" name="shutdown_time" time="0.212">)"), std::string::npos) << xml;
    EXPECT_NE(xml.find(R"(<property name="seed" value="42"/>)"), std::string::npos) << xml;
    EXPECT_NE(xml.find(R"(<property name="report" value="runs/demo-1/report.html"/>)"), std::string::npos) << xml;
    EXPECT_NE(xml.find(R"(<property name="scenario_file" value="scenarios/demo.yaml"/>)"), std::string::npos) << xml;
    EXPECT_NE(xml.find("<system-out>   FAIL demo\n"), std::string::npos) << "the run's console summary: " << xml;
    EXPECT_NE(xml.find(R"(<failure message="2 requests were dropped" type="dropped">)"), std::string::npos) << xml;
    EXPECT_NE(xml.find("#1 slow: &lt;reset&gt; &amp; &quot;cut&quot;"), std::string::npos) << "evidence must be escaped: " << xml;
    EXPECT_NE(xml.find(R"(<skipped message="not expected"/>)"), std::string::npos) << xml;
    EXPECT_EQ(count(xml, "<testcase "), count(xml, "</testcase>"));
    EXPECT_EQ(count(xml, "<testsuite "), count(xml, "</testsuite>"));
}

TEST(JunitReport, EmptySuiteIsStillValid) {
    const auto xml = junit_report({});
    EXPECT_NE(xml.find(R"(<testsuites name="lastcall" tests="0" failures="0")"), std::string::npos);
    const auto v = lastcall::testing::validate_junit_xml(written(xml, "junit.xml"));
    EXPECT_TRUE(v.valid) << v.output;
}

TEST(JunitReport, ValidatesAgainstWhatCiReadsWithATargetThatNeverStarted) {
    Fixture f;
    auto never_started = f.verdict;
    never_started.run.start_error = "the target exited with 1 before it was ready\nits stderr: <boom>";
    never_started.checks.clear();
    const auto v = lastcall::testing::validate_junit_xml(written(junit_report({f.verdict, never_started}), "junit.xml"));
    EXPECT_TRUE(v.valid) << v.output;
}

// The validator is no rubber stamp: what lastcall wrote before issue 12 fails it, for its reasons.
TEST(JunitReport, TheSchemaRejectsWhatJenkinsRejects) {
    Fixture f;
    auto xml = junit_report({f.verdict});
    xml = std::regex_replace(xml, std::regex(R"(<testsuites name="lastcall")"), R"(<testsuites name="lastcall" skipped="1")");
    xml = std::regex_replace(xml, std::regex(R"re(timestamp="([^"]+?)(Z|[+-]\d\d:\d\d)")re"), R"(timestamp="$1")");
    const auto v = lastcall::testing::validate_junit_xml(written(xml, "junit.xml"));
    EXPECT_FALSE(v.valid) << v.output;
    EXPECT_NE(v.output.find("attribute 'skipped'"), std::string::npos) << v.output;
    EXPECT_NE(v.output.find("'timestamp'"), std::string::npos) << v.output;
}

TEST(HtmlReport, IsSelfContained) {
    Fixture f;
    const auto html = html_report(f.verdict);
    // Its script and data are inline: no file or address to fetch.
    EXPECT_EQ(html.find("<script src"), std::string::npos);
    EXPECT_EQ(html.find("<link"), std::string::npos);
    EXPECT_EQ(html.find("https://"), std::string::npos);
    EXPECT_EQ(count(html, "http://"), count(html, "http://www.w3.org/2000/svg")) << "only the SVG namespace";
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_NE(html.find("FAIL"), std::string::npos);
    EXPECT_NE(html.find("&lt;reset&gt;"), std::string::npos);
}

// The y of a marker's label in the timeline, or -1 when it is not drawn.
int marker_label_y(const std::string& html, const std::string& label) {
    std::smatch m;
    const std::regex re(R"re(<text class="marker"[^>]* x="[0-9.]+" y="(\d+)"[^>]*>)re" + label + "</text>");
    return std::regex_search(html, m, re) ? std::stoi(m[1]) : -1;
}

// SIGTERM and "exit 0" 2 ms apart used to be drawn on one baseline, one over the other.
TEST(HtmlReport, CloseMarkersGetDifferentLabelRowsAndFarOnesShareOne) {
    Fixture f;
    auto& run = f.verdict.run;
    harness::SignalSent sigterm;
    sigterm.t_us = 1'000'000;
    sigterm.signal = SIGTERM;
    run.signals = {sigterm};
    run.exit = harness::TargetExit{true, 0, 0};
    run.exit_us = 1'002'000;
    auto html = html_report(f.verdict);
    const int term = marker_label_y(html, "SIGTERM"), exit = marker_label_y(html, "exit 0");
    ASSERT_GT(term, 0) << html;
    ASSERT_GT(exit, 0) << html;
    EXPECT_NE(term, exit) << "close markers share a label row";

    run.signals.front().t_us = 200'000;  // far apart: no reason to stack
    html = html_report(f.verdict);
    EXPECT_EQ(marker_label_y(html, "SIGTERM"), marker_label_y(html, "exit 0"));
}

// Width follows the window: a viewBox and width 100%, no fixed pixel width to clip.
TEST(HtmlReport, TheTimelineScalesToTheWindow) {
    Fixture f;
    const auto html = html_report(f.verdict);
    EXPECT_TRUE(std::regex_search(html, std::regex(R"re(<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 \d+" width="100%")re"))) << html;
    EXPECT_FALSE(std::regex_search(html, std::regex(R"re(<svg[^>]* width="\d+")re"))) << html;
}

// Requests in flight get a left axis with round ticks up to the peak; fds their own right axis.
TEST(HtmlReport, RequestsAndFdsHaveTheirOwnAxes) {
    Fixture f;
    auto& run = f.verdict.run;
    for (int i = 0; i < 7; ++i) {
        harness::RequestRecord r;
        r.intended_us = r.sent_us = 100'000;
        r.done_us = 900'000;
        r.outcome = harness::Outcome::ok;
        run.history.push_back(r);
    }
    run.samples = {harness::ProcSample{0, 30}, harness::ProcSample{500'000, 130}};
    const auto html = html_report(f.verdict);
    std::vector<std::string> request_ticks, fd_ticks;
    const std::regex request_tick(R"re(<line class="ytick"[^>]*/><text[^>]*>(\d+)</text>)re"), fd_tick(R"re(<text class="fdtick"[^>]*>(\d+)</text>)re");
    for (std::sregex_iterator it(html.begin(), html.end(), request_tick), end; it != end; ++it) request_ticks.push_back((*it)[1]);
    for (std::sregex_iterator it(html.begin(), html.end(), fd_tick), end; it != end; ++it) fd_ticks.push_back((*it)[1]);
    EXPECT_EQ(request_ticks, (std::vector<std::string>{"0", "2", "4", "6", "8"})) << "7 in flight: round ticks to 8";
    EXPECT_EQ(fd_ticks, (std::vector<std::string>{"0", "50", "100", "150"})) << "130 fds: their own scale, not the requests'";
}

// A restart_target run: the second generation's start and readiness are marked, not left to guess.
TEST(HtmlReport, MarksTheRestartAndReadyAgain) {
    Fixture f;
    auto& run = f.verdict.run;
    harness::GenerationSummary first, second;
    first.number = 1;
    first.ready_us = 50'000;
    second.number = 2;
    second.spawn_us = 1'100'000;
    second.ready_us = 1'250'000;
    run.generations = {first, second};
    const auto html = html_report(f.verdict);
    EXPECT_GT(marker_label_y(html, R"(restart \(gen 2\))"), 0) << html;
    EXPECT_GT(marker_label_y(html, "ready again"), 0) << html;
    EXPECT_EQ(marker_label_y(html, R"(restart \(gen 1\))"), -1) << "the first start is no restart";
}

// A 0.1 ms phase in a 1.5 s run is a twentieth of a unit wide: it is drawn at the minimum width.
TEST(HtmlReport, AShortPhaseStaysVisible) {
    Fixture f;
    auto& run = f.verdict.run;
    harness::SignalSent sigterm;
    sigterm.t_us = 1'000'000;
    sigterm.signal = SIGTERM;
    run.signals = {sigterm};
    auto parsed = harness::parse_target_report(
        R"({"phases":[{"phase":"stop_accepting","start_ms":0,"end_ms":0.1,"outcome":"done"},{"phase":"drain","start_ms":0.1,"end_ms":200,"outcome":"done"}]})");
    ASSERT_TRUE(parsed.report) << parsed.error;
    run.report.report = parsed.report;
    const auto html = html_report(f.verdict);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(html, m, std::regex(R"re(width="([0-9.]+)" height="16" fill="[^"]+"><title>stop_accepting )re"))) << html;
    EXPECT_GE(std::stod(m[1]), 3.0);
}

// A failed check with a moment is marked on the timeline there; one that judged the whole run is
// listed under it; a passing one is neither.
TEST(HtmlReport, MarksFailedChecksAtTheirMomentAndListsTheRest) {
    Fixture f;
    auto html = html_report(f.verdict);
    EXPECT_NE(html.find(R"(fill="#c62828">failed checks without a moment: dropped</text>)"), std::string::npos) << html;
    EXPECT_EQ(marker_label_y(html, "\u2717 dropped"), -1);

    f.verdict.checks.front().at_us = 700'000;
    html = html_report(f.verdict);
    EXPECT_GT(marker_label_y(html, "\u2717 dropped"), 0) << html;
    EXPECT_EQ(html.find("failed checks without a moment"), std::string::npos);
    f.verdict.checks[1].at_us = 900'000;  // exit, passed: nothing to mark
    EXPECT_EQ(marker_label_y(html_report(f.verdict), "\u2717 exit"), -1);
}

// Time ticks at round steps, about ten of them, up to the end of the run.
TEST(HtmlReport, TimeAxisTicksAtRoundSteps) {
    Fixture f;
    f.verdict.run.duration_us = 2'000'000;
    const auto html = html_report(f.verdict);
    std::vector<std::string> ticks;
    const std::regex tick(R"re(<text class="xtick"[^>]*>([0-9.]+)s</text>)re");
    for (std::sregex_iterator it(html.begin(), html.end(), tick), end; it != end; ++it) ticks.push_back((*it)[1]);
    EXPECT_EQ(ticks, (std::vector<std::string>{"0", "0.2", "0.4", "0.6", "0.8", "1", "1.2", "1.4", "1.6", "1.8", "2"}));
}

TEST(HtmlReport, DrawsALanePerProcessColouredByItsFate) {
    Fixture f;
    auto& run = f.verdict.run;
    run.processes = {harness::ProcessLife{201, 100, 1, "worker <1>", -200'000, -150'000, 900'000, 950'000},
                     harness::ProcessLife{202, 100, 1, "worker 2", -200'000, -150'000, 400'000, 450'000},
                     harness::ProcessLife{301, 100, 1, "worker 3", 500'000, 520'000, 1'400'000, -1}};
    harness::SignalSent kill{400'000, SIGKILL, "worker 2 (pid 202)", 1, true, "", false, 400'100};
    kill.pids = {202};
    run.signals = {kill};
    auto parsed = harness::parse_target_report(R"({"workers":[{"id":"1.1","pid":201,"fate":"killed","ended_while":"stopping","exit":"killed by SIGKILL"}]})");
    ASSERT_TRUE(parsed.report) << parsed.error;
    run.report.report = parsed.report;
    const auto html = html_report(f.verdict);
    EXPECT_NE(html.find(R"(fill="#e53935"><title>pid 201 (parent 100) worker &lt;1&gt;: worker 1.1: killed (killed by SIGKILL, while stopping))"), std::string::npos)
        << "the master's word on its worker, escaped";
    EXPECT_NE(html.find(R"(fill="#6d4c41"><title>pid 202 (parent 100) worker 2: killed by lastcall (SIGKILL))"), std::string::npos);
    EXPECT_NE(html.find(R"(fill="#a5d6a7"><title>pid 301 (parent 100) worker 3: alive at the end)"), std::string::npos);
}

TEST(JsonReport, IsVersionedAndNamesEveryCheck) {
    Fixture f;
    const auto json = json_report(f.verdict);
    EXPECT_NE(json.find(R"("version": 1)"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("passed": false)"), std::string::npos) << json;
    EXPECT_EQ(count(json, R"("name": )"), 4u) << json;
}

TEST(JsonReport, GivesEveryCheckItsNumbersBesideItsStrings) {
    Fixture f;
    const auto run = nlohmann::json::parse(json_report(f.verdict));
    const auto& shutdown = run["checks"][3];
    EXPECT_EQ(shutdown["bound"], "< 3000.0ms") << "version 1's display strings stay";
    EXPECT_EQ(shutdown["value"], 212.4);
    EXPECT_EQ(shutdown["bound_value"], 3000);
    EXPECT_EQ(shutdown["unit"], "ms");
    EXPECT_EQ(shutdown["comparison"], "<");
    EXPECT_TRUE(run["checks"][1]["value"].is_null()) << "exit, built here without numbers";
    EXPECT_EQ(run["began_at"], "2026-12-05T03:10:11.123Z");
    EXPECT_EQ(run["load_started_at"], "2026-12-05T03:10:11.423Z");
    EXPECT_EQ(run["target_command"], nlohmann::json({"/bin/lastcall-server", "--port", "4242"}));
    EXPECT_FALSE(run["lastcall_version"].get<std::string>().empty());
    const auto one = lastcall::testing::validate_report_json(written(json_report(f.verdict), "report.json"));
    EXPECT_TRUE(one.valid) << one.output;
    const auto suite = lastcall::testing::validate_report_json(written(json_suite_report({f.verdict, f.verdict}), "suite.json"));
    EXPECT_TRUE(suite.valid) << suite.output;
}

// The schema holds what it says: a number as a string, a missing version, an unknown status fail.
TEST(JsonReport, TheSchemaRejectsAReportThatBreaksIt) {
    Fixture f;
    auto run = nlohmann::json::parse(json_report(f.verdict));
    run["checks"][3]["value"] = "212.4ms";
    run["checks"][0]["status"] = "maybe";
    run.erase("lastcall_version");
    const auto v = lastcall::testing::validate_report_json(written(run.dump(), "report.json"));
    EXPECT_FALSE(v.valid) << v.output;
    EXPECT_NE(v.output.find("'212.4ms' is not of type"), std::string::npos) << v.output;
    EXPECT_NE(v.output.find("'maybe' is not one of"), std::string::npos) << v.output;
}

TEST(ConsoleReport, NamesTheFailureAndItsEvidence) {
    Fixture f;
    const auto text = console_report(f.verdict, false);
    EXPECT_NE(text.find("FAIL demo"), std::string::npos) << text;
    EXPECT_NE(text.find("2 requests were dropped"), std::string::npos) << text;
    EXPECT_NE(text.find("#1 slow"), std::string::npos) << text;
    EXPECT_NE(console_summary({f.verdict}, false).find("1 run: 0 passed, 1 failed"), std::string::npos);
}

// The table a person reads: headed columns, one line for every check that did not apply, and a
// check that only measures (no bound in the scenario) as `info`: it cannot fail, so it is no PASS.
TEST(ConsoleReport, HeadedColumnsSkipsOnOneLineMeasuredOnlyAsInfo) {
    Fixture f;
    f.verdict.checks.push_back(CheckResult{"shutdown_time", std::string(harness::measured_only_bound), "1.02s", CheckStatus::pass, "", {}});
    f.verdict.checks.push_back(CheckResult{"readiness_flip", "-", "-", CheckStatus::skip, "no HTTP readiness", {}});
    const auto text = console_report(f.verdict, false);
    EXPECT_NE(text.find("     result check                        bound"), std::string::npos) << text;
    EXPECT_NE(text.find("     info   shutdown_time                -  "), std::string::npos) << text;
    EXPECT_NE(text.find("     PASS   exit "), std::string::npos) << text;
    EXPECT_NE(text.find("     skipped: jobs_accounted, readiness_flip (not applicable)\n"), std::string::npos) << text;
    EXPECT_EQ(count(text, "skip"), 1u) << text;
    EXPECT_EQ(text.find("(measured)"), std::string::npos) << text;
    EXPECT_EQ(text.find('\033'), std::string::npos) << "no colour asked for";
}

// scenarios/sse-streams.yaml's streams_clean: a bound of 54 characters and a measurement of 100
// pushed the measured column right on its row. Each wraps inside its column: every line of the
// table keeps its columns, and the text is whole.
TEST(ConsoleReport, ALongBoundOrMeasurementWrapsInsideItsColumn) {
    Fixture f;
    const std::string bound = "every stream complete or ended by its shutdown notice";
    const std::string measured = "events: 0 of 4 ended with event end (data contains \"reason\":\"complete\"), "
                                 "4 by shutdown notice event end (data contains \"reason\":\"shutdown\")";
    f.verdict.checks = {CheckResult{"streams_clean", bound, measured, CheckStatus::pass, "", {}},
                        CheckResult{"exit", "exit 0", "exit 0", CheckStatus::pass, "", {}}};
    const auto text = console_report(f.verdict, false);
    constexpr std::size_t bound_at = 41, measured_at = 86;  // "     result " + 28 + " ", + 44 + " "
    ASSERT_EQ(text.find("bound"), text.find("\n") + 1 + bound_at) << text;
    std::istringstream lines(text);
    std::string line, bound_seen, measured_seen;
    std::getline(lines, line);  // the run's title
    std::getline(lines, line);  // the header
    EXPECT_EQ(line.find("measured"), measured_at) << text;
    while (std::getline(lines, line)) {
        EXPECT_TRUE(line.size() < bound_at || line[bound_at - 1] == ' ') << "the bound column starts where it always does:\n" << text;
        EXPECT_TRUE(line.size() < measured_at || line[measured_at - 1] == ' ') << "the measured column too:\n" << text;
        if (line.find("exit") != std::string::npos) break;
        const auto column = [&line](std::size_t from, std::size_t width) {
            auto part = line.size() > from ? line.substr(from, width) : std::string();
            part.erase(part.find_last_not_of(' ') + 1);
            return part;
        };
        const auto b = column(bound_at, 44), m = column(measured_at, std::string::npos);
        if (!b.empty()) bound_seen += (bound_seen.empty() ? "" : " ") + b;
        if (!m.empty()) measured_seen += (measured_seen.empty() ? "" : " ") + m;
    }
    EXPECT_EQ(bound_seen, bound) << text;
    EXPECT_EQ(measured_seen, measured) << text;
    EXPECT_NE(text.find("     PASS   exit                         exit 0"), std::string::npos) << text;
}

// A run that was not made (target.pid1 without a PID namespace) is neither a pass nor a failure.
TEST(ConsoleReport, SaysASkippedRunWasSkippedAndWhy) {
    Fixture f;
    f.verdict.run.skipped = "no PID namespace for target.pid1: clone3: Operation not permitted";
    f.verdict.checks = {CheckResult{"target.pid1", "-", "-", CheckStatus::skip, f.verdict.run.skipped, {}}};
    const auto text = console_report(f.verdict, false);
    EXPECT_EQ(text, "   SKIP demo: no PID namespace for target.pid1: clone3: Operation not permitted\n");
    const auto summary = console_summary({f.verdict}, false);
    EXPECT_NE(summary.find("1 run: 0 passed, 0 failed, 1 skipped"), std::string::npos) << summary;
    EXPECT_NE(summary.find("SKIP demo: no PID namespace"), std::string::npos) << summary;
    EXPECT_NE(json_report(f.verdict).find(R"("skipped": "no PID namespace for target.pid1)"), std::string::npos);
}

} // namespace
} // namespace lastcall::reports

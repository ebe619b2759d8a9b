// junit.xml for CI: GitLab's test report and Jenkins' junit/xunit plugins. What they read, and so
// what this writes (tests/unit/reports/junit.xsd spells it out, a test validates against it):
// testsuites (no `skipped`: Jenkins' xunit schema rejects it), one testsuite per run with its own
// timestamp (with the offset) and time, <properties>, one testcase per check with a time, and the
// run's console summary as <system-out>.
#include "report_time.hpp"
#include "reports.hpp"

#include <fmt/format.h>

namespace lastcall::reports {

namespace {

std::string xml_escape(std::string_view text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default:
            if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out += c;  // XML 1.0 forbids other controls
        }
    }
    return out;
}

// Milliseconds, as Jenkins' schema allows (at most 3 decimals). A span under half a millisecond
// (a 0.3 ms drain tail) is written 0.001, not 0.000, which CI tools show as "not measured".
std::string seconds_text(double seconds) {
    if (seconds > 0 && seconds < 0.0005) seconds = 0.001;
    return fmt::format("{:.3f}", seconds < 0 ? 0.0 : seconds);
}

// A check that measured a span of time (shutdown_time, drain_tail, readiness_flip...) took that
// long; every other check judged the whole run, so it took the run's time. Never 0: GitLab and
// Jenkins show 0 as "not measured".
double check_seconds(const harness::CheckResult& c, double run_seconds) {
    if (c.numbers && c.numbers->value && c.numbers->unit == "ms" && *c.numbers->value > 0) return *c.numbers->value / 1e3;
    return run_seconds;
}

std::string property(std::string_view name, std::string_view value) {
    return fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", xml_escape(name), xml_escape(value));
}

std::string properties(const RunVerdict& v) {
    std::string command;
    for (const auto& arg : v.run.target_command) command += (command.empty() ? "" : " ") + arg;
    std::string out = "    <properties>\n";
    out += property("scenario_file", v.scenario->file);
    out += property("seed", std::to_string(v.run.seed));
    if (!v.run.run_dir.empty()) {
        out += property("run_dir", v.run.run_dir.string());
        out += property("report", (v.run.run_dir / "report.html").string());
        out += property("report_json", (v.run.run_dir / "report.json").string());
    }
    if (!command.empty()) out += property("target_command", command);
    out += property("lastcall_version", LASTCALL_VERSION);
    return out + "    </properties>\n";
}

std::string testcase(const harness::CheckResult& c, const std::string& classname, double run_seconds) {
    auto out = fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{}\">", classname, xml_escape(c.name), seconds_text(check_seconds(c, run_seconds)));
    if (c.status == harness::CheckStatus::fail) {
        std::string body = fmt::format("bound: {}\nmeasured: {}\n", c.bound, c.measured);
        for (const auto& e : c.evidence) body += e + "\n";
        out += fmt::format("\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    ", xml_escape(c.message), xml_escape(c.name), xml_escape(body));
    } else if (c.status == harness::CheckStatus::skip) {
        out += fmt::format("<skipped message=\"{}\"/>", xml_escape(c.message));
    }
    return out + "</testcase>\n";
}

struct Counts {
    std::size_t tests = 0, failures = 0, errors = 0, skipped = 0;
    double seconds = 0;
};

std::string testsuite(const RunVerdict& v, Counts& total) {
    // GitLab shows classname as the suite column and ignores testsuite@name: put the scenario there.
    const auto suite_name = v.scenario->repeat > 1 ? fmt::format("{}#{}", v.scenario->name, v.repeat_index + 1) : v.scenario->name;
    const auto classname = xml_escape("lastcall." + suite_name);
    const double run_seconds = static_cast<double>(v.run.duration_us) / 1e6;
    const auto timestamp = iso8601_local(v.run.began_unix_us > 0 ? v.run.began_unix_us : unix_now_us());
    Counts suite;
    std::string cases;
    if (!v.error().empty()) {
        // The target never started: one test case in error, so CI shows it instead of nothing.
        const auto first_line = v.error().substr(0, v.error().find('\n'));
        cases = fmt::format("    <testcase classname=\"{}\" name=\"target_started\" time=\"{}\">\n"
                            "      <error message=\"{}\" type=\"target_start\">{}</error>\n    </testcase>\n",
                            classname, seconds_text(run_seconds), xml_escape(first_line), xml_escape(v.error()));
        suite.tests = 1;
        suite.errors = 1;
    }
    for (const auto& c : v.checks) {
        cases += testcase(c, classname, run_seconds);
        ++suite.tests;
        if (c.status == harness::CheckStatus::fail) ++suite.failures;
        if (c.status == harness::CheckStatus::skip) ++suite.skipped;
    }
    total.tests += suite.tests;
    total.failures += suite.failures;
    total.errors += suite.errors;
    total.skipped += suite.skipped;
    total.seconds += run_seconds;
    return fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\" timestamp=\"{}\">\n"
                       "{}{}    <system-out>{}</system-out>\n  </testsuite>\n",
                       xml_escape(suite_name), suite.tests, suite.failures, suite.errors, suite.skipped, seconds_text(run_seconds), timestamp,
                       properties(v), cases, xml_escape(console_report(v, false)));
}

} // namespace

std::string junit_report(const std::vector<RunVerdict>& verdicts) {
    Counts total;
    std::string suites;
    for (const auto& v : verdicts) suites += testsuite(v, total);
    return fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"lastcall\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{}\">\n{}</testsuites>\n",
                       total.tests, total.failures, total.errors, seconds_text(total.seconds), suites);
}

} // namespace lastcall::reports

#include "reports.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

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

std::string iso_now() {
    const auto now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    return text;
}

} // namespace

std::string junit_report(const std::vector<RunVerdict>& verdicts) {
    std::size_t tests = 0, failures = 0, errors = 0, skipped = 0;
    double total_time = 0;
    std::string suites;
    const auto timestamp = iso_now();
    for (const auto& v : verdicts) {
        std::size_t suite_failures = 0, suite_skipped = 0;
        std::string cases;
        // GitLab shows classname as the suite column and ignores testsuite@name: put the scenario there.
        const auto suite_name = v.scenario->repeat > 1 ? fmt::format("{}#{}", v.scenario->name, v.repeat_index + 1) : v.scenario->name;
        const auto classname = xml_escape("lastcall." + suite_name);
        if (!v.error().empty()) {
            // The target never started: one test case in error, so CI shows it instead of nothing.
            const auto first_line = v.error().substr(0, v.error().find('\n'));
            suites += fmt::format("  <testsuite name=\"{}\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0\" timestamp=\"{}\">\n"
                                  "    <testcase classname=\"{}\" name=\"target_started\" time=\"0\">\n"
                                  "      <error message=\"{}\" type=\"target_start\">{}</error>\n    </testcase>\n  </testsuite>\n",
                                  xml_escape(suite_name), timestamp, classname, xml_escape(first_line), xml_escape(v.error()));
            ++tests;
            ++errors;
            continue;
        }
        for (const auto& c : v.checks) {
            cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"0\">", classname, xml_escape(c.name));
            if (c.status == harness::CheckStatus::fail) {
                ++suite_failures;
                std::string body = fmt::format("bound: {}\nmeasured: {}\n", c.bound, c.measured);
                for (const auto& e : c.evidence) body += e + "\n";
                cases += fmt::format("\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    ", xml_escape(c.message), xml_escape(c.name),
                                     xml_escape(body));
            } else if (c.status == harness::CheckStatus::skip) {
                ++suite_skipped;
                cases += fmt::format("<skipped message=\"{}\"/>", xml_escape(c.message));
            }
            cases += "</testcase>\n";
        }
        const double seconds = static_cast<double>(v.run.duration_us) / 1e6;
        suites += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3f}\" timestamp=\"{}\">\n{}  </testsuite>\n",
                              xml_escape(suite_name), v.checks.size(), suite_failures, suite_skipped, seconds, timestamp, cases);
        tests += v.checks.size();
        failures += suite_failures;
        skipped += suite_skipped;
        total_time += seconds;
    }
    return fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"lastcall\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\">\n{}</testsuites>\n",
                       tests, failures, errors, skipped, total_time, suites);
}

} // namespace lastcall::reports

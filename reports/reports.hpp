#pragma once
// Report writers over the verdicts of a suite of runs. Each takes what the harness decided and
// only formats it: no report re-judges anything.
#include "checks.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace lastcall::reports {

using harness::RunVerdict;

// A table of checks (measured vs bound, pass/fail) and the evidence of failures; colour when `tty`.
std::string console_report(const RunVerdict& verdict, bool tty);
// `errors_said_above`: each run's block (console_report) was printed and said why a run could not
// run; the summary then names it without saying it again.
std::string console_summary(const std::vector<RunVerdict>& verdicts, bool tty, bool errors_said_above = false);

inline constexpr int report_json_version = 1;
std::string json_report(const RunVerdict& verdict);                  // report.json of one run
std::string json_suite_report(const std::vector<RunVerdict>& verdicts);

// One testsuite per scenario run, one testcase per check, <failure> with message and evidence.
std::string junit_report(const std::vector<RunVerdict>& verdicts);

// One self-contained HTML file: SVG timeline, lanes, the drill-down (inline script and JSON) and the
// checks table; nothing fetched, it opens offline.
std::string html_report(const RunVerdict& verdict);

// Writes report.json and report.html into the run directory.
void write_run_reports(const RunVerdict& verdict);

} // namespace lastcall::reports

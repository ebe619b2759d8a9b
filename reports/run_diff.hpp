#pragma once
// `lastcall diff A B`: two runs side by side from their report.json, each check's verdict and
// measurement, and the latency percentiles. Read only from report.json (the run directory, the
// file, or a suite report of one run): a run from another machine compares like a local one.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace lastcall::reports {

struct CheckSide {
    std::string status;    // pass | fail | skip; "-" when the run has no such check
    std::string measured;  // as the console shows it; a bare number with its unit ("3 requests")
    std::optional<double> value;
    std::string unit;
    bool info = false;  // no bound: it only measures, and passes whatever it measured
    bool judged() const { return status == "pass" || status == "fail"; }
};

struct CheckDiff {
    std::string name;
    CheckSide a, b;
    // Passed in one run and failed in the other: the only change the exit code counts.
    bool verdict_changed() const { return a.judged() && b.judged() && a.status != b.status; }
    // Judged in one run only (skipped there because it did not apply, or absent from that report):
    // shown apart, neither a regression nor a fix.
    bool judged_in_one_run_only() const { return a.judged() != b.judged(); }
};

// A run that did not run, from its report.json: a setup error (`error`: the target could not be
// started, never became ready, or answered nothing with HTTP; `lastcall run` exited 3) or a run not
// made (`skipped`: no PID namespace for target.pid1; exit 0, 3 with --strict). It has no verdicts:
// its checks beside the other run's would read as "one run only" and "no check changed verdict".
struct NotRun {
    bool setup_error = false;  // else skipped
    std::string why;           // the report's `error` or `skipped`, as `lastcall run` said it
};

struct LatencyDiff {
    std::string name;  // p50, p90, p99, p999, max
    std::optional<double> a_ms, b_ms;
};

struct RunDiff {
    std::string a_title, b_title;  // scenario and the path given for each (and the saved run directory where it differs)
    // Not empty when A and B ran different scenarios (another name, or the file's SHA-256 differs):
    // a difference in their checks is then not the service's alone. Said above the table.
    std::string scenario_warning;
    std::vector<CheckDiff> checks;   // A's order, then checks only B has
    std::vector<LatencyDiff> latency;
    // Not empty when A's latency and B's are measured from different moments (a closed loop's from
    // the send, an open loop's from the intended start, where the wait behind a slow response
    // counts): their change is then not the service's alone. Said with the latency rows.
    std::string latency_warning;
    std::optional<NotRun> a_not_run, b_not_run;
    bool verdict_changed() const;
    bool either_did_not_run() const { return a_not_run || b_not_run; }
};

// A run directory, a report.json, or a suite report holding one run; nothing readable or not a
// lastcall report: ReportError saying which file and why.
struct ReportError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
RunDiff diff_runs(const std::filesystem::path& a, const std::filesystem::path& b);
// The same from the two reports' text (`a_name` and `b_name`, the paths given, name them in the
// titles and in errors).
RunDiff diff_reports(const std::string& a_json, const std::string& a_name, const std::string& b_json, const std::string& b_name);

// A table: check, A, B, `changed` where the verdict did (pass <-> fail), `one run only` where the
// check was judged in one run only (`B did not run` where that run did not: said above the table
// with why, and under it instead of "no check changed verdict"); cells wrap inside their column; B's change in % only for
// quantities where a ratio means something (durations, counts of requests), never on an exit
// status or a difference (fd growth); latency rows with B's change in %.
std::string diff_table(const RunDiff& diff);

} // namespace lastcall::reports

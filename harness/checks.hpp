#pragma once
// The verdict of one run: named checks over the history, samples, events, exit and the target's
// own shutdown report, each with a bound (from `expect:`, or its documented default), a measured
// value, pass/fail/skip, and evidence: the first few offending requests or events with their
// timelines, and what the judgement rests on where that is not obvious.
#include "run_result.hpp"
#include "scenario.hpp"

#include <optional>
#include <string>
#include <vector>

namespace lastcall::harness {

enum class CheckStatus { pass, fail, skip };
std::string_view to_string(CheckStatus status);

// The bound of a check that has none in the scenario: it measures and always passes (the console
// shows it as `info`, not PASS).
inline constexpr std::string_view measured_only_bound = "- (measured)";
// A check's judgement in numbers, beside its display strings, for machines (report.json): what
// was measured, the bound it was held to, in which unit. A check that judges no number (exit,
// port_released) has none.
struct CheckNumbers {
    std::optional<double> value;
    std::optional<double> bound;        // none: measured only, nothing holds it
    std::optional<double> bound_upper;  // comparison "between": bound <= value <= bound_upper
    std::string unit;                   // "ms", "requests", "streams", ...
    std::string comparison;             // "<", "<=", "==", "between"; empty without a bound
};

struct CheckResult {
    std::string name;
    std::string bound;
    std::string measured;
    CheckStatus status = CheckStatus::pass;
    std::string message;                // why it failed or was skipped, one line
    std::vector<std::string> evidence;  // at most a few lines
    std::optional<CheckNumbers> numbers = std::nullopt;
    // When the failure shows on the run's timeline (report.html marks it there), in µs since the
    // run started: the first offending request's end, the exit, a deadline that ran out. -1: the
    // check judged the run as a whole and has no single moment.
    std::int64_t at_us = -1;
    // The ids of the requests `evidence` quotes: history.jsonl keeps them past its budget.
    std::vector<std::uint64_t> evidence_requests = {};
};

struct RunVerdict {
    const Scenario* scenario = nullptr;
    int repeat_index = 0;
    RunResult run;
    std::vector<CheckResult> checks;
    // The run could not be judged (the target never started): an error, not a failed check.
    const std::string& error() const { return run.start_error; }
    bool passed() const;
};

// No checks when the run has a start error; one skipped `target.pid1` when it was not made.
std::vector<CheckResult> evaluate_checks(const Scenario& scenario, const RunResult& run);

// One line of a request's timeline, for evidence.
std::string describe_request(const RequestRecord& r, const std::vector<std::string>& workload_names);

} // namespace lastcall::harness

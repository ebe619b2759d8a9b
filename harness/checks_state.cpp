// Checks over state that must survive: acknowledged writes, jobs, the target's own report.
#include "check_facts.hpp"

#include <algorithm>
#include <charconv>

namespace lastcall::harness::checks {

namespace {

// The `by=N` of an increment workload's path (1 when absent or not a number).
std::int64_t increment_of(const Workload& w) {
    const auto at = w.request.path.find("by=");
    std::int64_t by = 1;
    if (at != std::string::npos) {
        const auto* begin = w.request.path.data() + at + 3;
        std::from_chars(begin, w.request.path.data() + w.request.path.size(), by);
    }
    return by;
}

CheckResult check_acked_writes(const Facts& f) {
    const auto& workload = f.scenario.expect.acked_writes_workload;
    if (!workload) return skipped("acked_writes_durable", "not expected");
    std::int64_t by = 1;
    for (const auto& w : f.scenario.workloads) {
        if (w.name == *workload) by = increment_of(w);
    }
    std::int64_t acked = 0, uncertain = 0;
    for (const auto& r : f.run.history) {
        if (r.workload >= f.run.workload_names.size() || f.run.workload_names[r.workload] != *workload) continue;
        if (r.outcome == Outcome::ok) acked += by;
        else if (r.sent_us >= 0 && r.outcome != Outcome::rejected) uncertain += by;  // may or may not have applied
    }
    const auto bound = fmt::format("{} <= value <= {}", acked, acked + uncertain);
    if (!f.run.restart_error.empty()) return make("acked_writes_durable", bound, "no restart", false, "the restarted target did not come up: " + f.run.restart_error);
    if (!f.run.counter_after_restart) {
        return make("acked_writes_durable", bound, "no readback", false,
                    f.run.restarted ? f.run.counter_readback_error : "the scenario never restarted the target (add restart_target)");
    }
    const auto value = *f.run.counter_after_restart;
    return make("acked_writes_durable", bound, std::to_string(value), value >= acked && value <= acked + uncertain,
                value < acked ? fmt::format("{} acknowledged increments were lost across the restart", acked - value)
                              : "the state holds more than was ever sent");
}

CheckResult check_jobs(const Facts& f) {
    if (!f.scenario.expect.jobs_accounted) return skipped("jobs_accounted", "not expected");
    const auto accepted = f.where([](const RequestRecord& r) { return r.job_id >= 0; });
    if (!f.run.restart_error.empty()) return make("jobs_accounted", "every accepted job completed", "no restart", false, f.run.restart_error);
    if (!f.run.restarted) return make("jobs_accounted", "every accepted job completed", "no restart", false, "add restart_target to see resumed jobs");
    std::vector<std::string> missing;
    for (const auto* r : accepted) {
        const auto it = f.run.job_states_after_restart.find(r->job_id);
        const auto state = it == f.run.job_states_after_restart.end() ? "not read back" : it->second;
        if (state != "completed") missing.push_back(fmt::format("job {} is {}", r->job_id, state));
    }
    auto c = make("jobs_accounted", "every accepted job completed", fmt::format("{} of {}", accepted.size() - missing.size(), accepted.size()),
                  missing.empty(), "accepted jobs were lost");
    for (std::size_t i = 0; i < missing.size() && i < evidence_limit; ++i) c.evidence.push_back(missing[i]);
    return c;
}

// Why there is no report to judge, as a skip reason.
std::string no_report(const Facts& f) {
    const auto& reading = f.run.report;
    switch (reading.state) {
    case TargetReportReading::State::not_configured: return "the scenario names no target.shutdown_report";
    case TargetReportReading::State::absent: return "the target wrote no shutdown report";
    default: return fmt::format("no shutdown report of this run ({})", reading.detail);
    }
}

CheckResult check_stuck_abandoned(const Facts& f) {
    const auto& bound = f.scenario.expect.stuck_abandoned_within;
    if (!bound) return skipped("stuck_abandoned_within", "not expected");
    if (!f.report) return skipped("stuck_abandoned_within", no_report(f));
    const auto& abandoned = f.report->abandoned_tasks;
    const auto* tasks = f.report->phase("tasks");
    const double tasks_end_ms = tasks ? tasks->end_ms : -1;
    const auto measured = fmt::format("{} abandoned by {:.1f}ms", abandoned.size(), tasks_end_ms);
    const bool ok = !abandoned.empty() && tasks_end_ms >= 0 && tasks_end_ms * 1000 < static_cast<double>(micros(*bound));
    auto c = make("stuck_abandoned_within", fmt::format("< {}", millis(micros(*bound))), measured, ok,
                  abandoned.empty() ? "no task was abandoned" : "abandoning the stuck task took too long");
    if (!ok) {
        for (const auto& name : abandoned) c.evidence.push_back(fmt::format("abandoned: {}", name));
    }
    return c;
}

CheckResult check_shutdown_report(const Facts& f) {
    if (!f.scenario.expect.shutdown_report) return skipped("shutdown_report", "not expected");
    if (f.run.report.state == TargetReportReading::State::corrupt) {
        // A report the target meant to write and could not is a failure, not a missing report.
        return make("shutdown_report", "ordered, in budget, consistent", "corrupt", false, f.run.report.detail);
    }
    if (!f.report) return skipped("shutdown_report", no_report(f));
    std::vector<std::string> problems;
    static const std::vector<std::string> order{"preparing", "draining", "tasks", "cleaning", "persisting", "exiting"};
    std::size_t next = 0;
    double previous_end = 0;
    const bool expect_clean = !f.scenario.expect.exit.by_signal && f.scenario.expect.exit.value == 0;
    for (const auto& p : f.report->phases) {
        const auto at = std::find(order.begin() + static_cast<std::ptrdiff_t>(next), order.end(), p.name);
        if (at == order.end()) problems.push_back(fmt::format("phase {} out of order", p.name));
        else next = static_cast<std::size_t>(at - order.begin()) + 1;
        if (p.start_ms + 0.001 < previous_end) problems.push_back(fmt::format("phase {} starts before the previous one ended", p.name));
        previous_end = p.end_ms;
        if (expect_clean && (p.outcome == "timed_out" || p.outcome == "failed")) problems.push_back(fmt::format("phase {} {}: {}", p.name, p.outcome, p.detail));
    }
    if (f.run.exit && f.run.exit->exited && f.report->exit_code && *f.report->exit_code != f.run.exit->code) {
        problems.push_back(fmt::format("report says exit {}, the process exited {}", *f.report->exit_code, f.run.exit->code));
    }
    const auto told = f.report->count("streams_ended_by_shutdown");
    const auto seen = static_cast<std::int64_t>(f.outcome(Outcome::ended_by_shutdown));
    if (seen > told) problems.push_back(fmt::format("the harness saw {} streams ended by shutdown, the report counts {}", seen, told));
    auto c = make("shutdown_report", "ordered, in budget, consistent", problems.empty() ? "consistent" : fmt::format("{} problems", problems.size()),
                  problems.empty(), problems.empty() ? "" : problems.front());
    for (std::size_t i = 0; i < problems.size() && i < evidence_limit; ++i) c.evidence.push_back(problems[i]);
    return c;
}

} // namespace

std::vector<CheckResult> state_checks(const Facts& f) {
    return {check_acked_writes(f), check_jobs(f), check_stuck_abandoned(f), check_shutdown_report(f)};
}

} // namespace lastcall::harness::checks

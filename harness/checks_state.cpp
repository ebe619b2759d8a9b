// Checks over state that must survive: acknowledged writes, jobs, the target's own report.
#include "check_facts.hpp"

#include "target_json.hpp"
#include "text_rules.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace lastcall::harness::checks {

namespace {

using AckedWrites = Expectations::AckedWrites;

// The writes of the acked_writes workload: acknowledged (a 2xx that kept its contract) and
// uncertain (sent, never answered in full: they may or may not have taken effect).
struct Writes {
    std::uint64_t acked = 0;
    std::map<std::string, std::uint64_t> acked_replies;  // the reply value of an acknowledged write -> how many had it
    std::uint64_t uncertain = 0;
};

void count_write(const Facts& f, const std::string& workload, const RequestRecord& r, Writes& w) {
    if (r.workload >= f.run.workload_names.size() || f.run.workload_names[r.workload] != workload) return;
    if (r.outcome == Outcome::ok) {
        ++w.acked;
        if (!r.reply_value.empty()) ++w.acked_replies[r.reply_value];
    } else if (r.sent_us >= 0 && r.outcome != Outcome::rejected) {
        ++w.uncertain;  // a 500 may have applied too
    }
}

// Why there is nothing read back to judge, or nullopt when there is.
std::optional<CheckResult> no_readback(const Facts& f, const std::string& bound) {
    if (!f.run.restart_error.empty()) return make("acked_writes_durable", bound, "no restart", false, "the restarted target did not come up: " + f.run.restart_error);
    if (f.run.acked_state_after_restart) return std::nullopt;
    return make("acked_writes_durable", bound, "no readback", false,
                f.run.restarted ? f.run.acked_readback_error : "the scenario never restarted the target (add restart_target)");
}

CheckResult check_counter(const Facts& f, const AckedWrites& a, const Writes& w) {
    const auto acked = static_cast<std::int64_t>(w.acked) * a.increment;
    const auto uncertain = static_cast<std::int64_t>(w.uncertain) * a.increment;
    const auto bound = fmt::format("{} <= {} {} <= {}", acked, a.read_path, a.read_pointer, acked + uncertain);
    if (auto c = no_readback(f, bound)) return *c;
    const auto& state = *f.run.acked_state_after_restart;
    if (!state.is_number_integer()) {
        return make("acked_writes_durable", bound, json_text(state).substr(0, 80), false, fmt::format("{} at {} is not an integer", a.read_path, a.read_pointer));
    }
    const auto value = state.get<std::int64_t>();
    return with_numbers(make("acked_writes_durable", bound, std::to_string(value), value >= acked && value <= acked + uncertain,
                             value < acked ? fmt::format("{} acknowledged increments were lost across the restart", (acked - value) / a.increment)
                                           : "the state holds more than was ever sent"),
                        CheckNumbers{static_cast<double>(value), static_cast<double>(acked), static_cast<double>(acked + uncertain), "count", "between"});
}

// The element each acknowledged write added, as JSON text; nullopt when the request body is not JSON.
std::optional<std::string> request_element(const Facts& f, const AckedWrites& a) {
    for (const auto& w : f.scenario.workloads) {
        if (w.name != a.workload) continue;
        const auto doc = nlohmann::json::parse(w.request.body, nullptr, false);
        try {
            const nlohmann::json::json_pointer p(a.element_pointer);
            if (!doc.is_discarded() && doc.contains(p)) return json_text(doc.at(p));
        } catch (const nlohmann::json::exception&) {
        }
    }
    return std::nullopt;
}

CheckResult check_set(const Facts& f, const AckedWrites& a, const Writes& w) {
    const auto bound = fmt::format("every acknowledged element in {} {}", a.read_path, a.read_pointer);
    if (auto c = no_readback(f, bound)) return *c;
    const auto& state = *f.run.acked_state_after_restart;
    if (!state.is_array()) return make("acked_writes_durable", bound, "not an array", false, fmt::format("{} at {} is not a JSON array", a.read_path, a.read_pointer));
    std::set<std::string> present;
    for (const auto& element : state) present.insert(json_text(element));
    std::vector<std::string> missing;
    const auto from_request = a.element_from == AckedWrites::ElementFrom::request ? request_element(f, a) : std::nullopt;
    if (a.element_from == AckedWrites::ElementFrom::request && !from_request && w.acked > 0) {
        return make("acked_writes_durable", bound, "no element", false, fmt::format("the request body holds nothing at {}", a.element_pointer));
    }
    // element -> acknowledged writes that named it; an ok write always has a reply value (else reply_value_missing)
    auto acked = from_request ? std::map<std::string, std::uint64_t>{} : w.acked_replies;
    if (from_request && w.acked > 0) acked[*from_request] = w.acked;
    // An element the server handed out to two acknowledged writes: it forgot the first (a restart
    // that lost it gives the same id again), and the set alone could not tell.
    std::vector<std::string> reissued;
    for (const auto& [element, writes] : acked) {
        if (!present.contains(element)) missing.push_back(element);
        if (!from_request && writes > 1) reissued.push_back(element);
    }
    auto c = make("acked_writes_durable", bound, fmt::format("{} of {} present", acked.size() - missing.size(), acked.size()),
                  missing.empty() && reissued.empty(),
                  missing.empty() ? fmt::format("{} elements were acknowledged to more than one write: the server forgot earlier ones", reissued.size())
                                  : fmt::format("{} acknowledged elements were lost across the restart", missing.size()));
    c.numbers = offending_count(missing.size() + reissued.size(), "elements");  // lost or handed out twice
    for (std::size_t i = 0; i < missing.size() && i < evidence_limit; ++i) c.evidence.push_back(fmt::format("missing: {}", printable(missing[i])));
    if (missing.size() > evidence_limit) c.evidence.push_back(fmt::format("... and {} more missing", missing.size() - evidence_limit));
    for (std::size_t i = 0; i < reissued.size() && i < evidence_limit; ++i) {
        c.evidence.push_back(fmt::format("{} was acknowledged to {} writes", printable(reissued[i]), acked[reissued[i]]));
    }
    if (reissued.size() > evidence_limit) c.evidence.push_back(fmt::format("... and {} more given twice", reissued.size() - evidence_limit));
    return c;
}

CheckPass check_acked_writes(const Facts& f) {
    const auto& a = f.scenario.expect.acked_writes;
    if (!a) return decided(skipped("acked_writes_durable", "not expected"));
    return with_state(
        Writes{}, [&f, &a](Writes& w, const RequestRecord& r) { count_write(f, a->workload, r, w); },
        [&f, &a](const Writes& w) { return a->model == AckedWrites::Model::counter ? check_counter(f, *a, w) : check_set(f, *a, w); });
}

struct Jobs {
    std::uint64_t accepted = 0, missing = 0;
    std::vector<std::string> first_missing;  // the first few, in the history's order
};

CheckPass check_jobs(const Facts& f) {
    if (!f.scenario.expect.jobs_accounted) return decided(skipped("jobs_accounted", "not expected"));
    if (!f.run.restart_error.empty()) return decided(make("jobs_accounted", "every accepted job done", "no restart", false, f.run.restart_error));
    if (!f.run.restarted) return decided(make("jobs_accounted", "every accepted job done", "no restart", false, "add restart_target to see resumed jobs"));
    return with_state(
        Jobs{},
        [&f](Jobs& j, const RequestRecord& r) {
            const bool is_job = !r.reply_value.empty() && r.workload < f.scenario.workloads.size() && f.scenario.workloads[r.workload].job;
            if (!is_job) return;
            ++j.accepted;
            const auto it = f.run.job_states_after_restart.find(JobRef{r.workload, r.reply_value});
            if (it != f.run.job_states_after_restart.end() && it->second.done) return;
            if (j.missing++ >= evidence_limit) return;
            const auto& job = *f.scenario.workloads[r.workload].job;
            j.first_missing.push_back(fmt::format("job {}: {} (done when {} is {})", printable(r.reply_value),
                                                  it == f.run.job_states_after_restart.end() ? "not read back" : it->second.seen, job.done_pointer,
                                                  job.done_equals));
        },
        [](const Jobs& j) {
            auto c = make("jobs_accounted", "every accepted job done", fmt::format("{} of {}", j.accepted - j.missing, j.accepted), j.missing == 0,
                          "accepted jobs were lost");
            c.numbers = offending_count(j.missing, "jobs");
            c.evidence = j.first_missing;
            return c;
        });
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
    // When the tasks phase ended by the target's report; it must also have abandoned a task.
    c.numbers = CheckNumbers{tasks_end_ms >= 0 ? std::optional<double>(tasks_end_ms) : std::nullopt, as_ms(micros(*bound)), std::nullopt, "ms", "<"};
    if (!ok) {
        for (const auto& name : abandoned) c.evidence.push_back(fmt::format("abandoned: {}", name));
    }
    return c;
}

// Workers of a master that ended while it stopped without a report of their own (killed at the
// graceful timeout, crashed): the master's counts leave out what they ended.
std::vector<std::string> workers_without_a_report(const TargetReport& report) {
    std::vector<std::string> out(report.stragglers);
    if (!report.workers) return out;
    for (const auto& w : *report.workers) {
        if (w.ended_while == "stopping" && w.fate != "drained" && std::find(out.begin(), out.end(), w.id) == out.end()) out.push_back(w.id);
    }
    return out;
}

// Streams the judged generation ended by its shutdown: from the first shutdown signal until the
// next generation started. Streams a reload's retiring workers ended came before that signal (a
// master's report counts its stopping workers only), and a later generation's after.
bool ended_by_this_shutdown(const Facts& f, const RequestRecord& r) {
    if (f.signal_us < 0) return false;
    const auto judged = static_cast<std::size_t>(f.run.judged_generation);  // the next one's index
    const auto until = judged < f.run.generations.size() ? f.run.generations[judged].spawn_us : INT64_MAX;
    return r.outcome == Outcome::ended_by_shutdown && r.done_us >= f.signal_us && r.done_us < until;
}

CheckResult shutdown_report(const Facts& f, std::uint64_t streams_ended_by_this_shutdown);

CheckPass check_shutdown_report(const Facts& f) {
    if (!f.scenario.expect.shutdown_report) return decided(skipped("shutdown_report", "not expected"));
    if (f.run.report.state == TargetReportReading::State::corrupt) {
        // A report the target meant to write and could not is a failure, not a missing report.
        return decided(make("shutdown_report", "ordered, in budget, consistent", "corrupt", false, f.run.report.detail));
    }
    if (!f.report) return decided(skipped("shutdown_report", no_report(f)));
    return with_state(
        std::uint64_t{0},
        [&f](std::uint64_t& streams, const RequestRecord& r) {
            if (ended_by_this_shutdown(f, r)) ++streams;
        },
        [&f](std::uint64_t streams) { return shutdown_report(f, streams); });
}

CheckResult shutdown_report(const Facts& f, std::uint64_t streams_ended_by_this_shutdown) {
    std::vector<std::string> problems;
    static const std::vector<std::string> order{"preparing", "draining", "tasks", "cleaning", "persisting", "exiting"};
    std::size_t next = 0;
    double previous_end = 0;
    // Only exit 0 expected: the target promised to finish its work, no phase may have given up.
    const bool expect_clean = f.scenario.expect.exit == std::vector<Expectations::Exit>{Expectations::Exit{}};
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
    // A master cannot count what a killed worker never told it: the comparison holds only without one.
    if (workers_without_a_report(*f.report).empty()) {
        const auto told = f.report->count("streams_ended_by_shutdown");
        const auto seen = static_cast<std::int64_t>(streams_ended_by_this_shutdown);
        if (seen > told) problems.push_back(fmt::format("the harness saw {} streams ended by this shutdown, the report counts {}", seen, told));
    }
    auto c = make("shutdown_report", "ordered, in budget, consistent", problems.empty() ? "consistent" : fmt::format("{} problems", problems.size()),
                  problems.empty(), problems.empty() ? "" : problems.front());
    c.numbers = offending_count(problems.size(), "problems");
    for (std::size_t i = 0; i < problems.size() && i < evidence_limit; ++i) c.evidence.push_back(problems[i]);
    return c;
}

} // namespace

std::vector<CheckPass> state_checks(const Facts& f) {
    return {check_acked_writes(f), check_jobs(f), decided(check_stuck_abandoned(f)), check_shutdown_report(f)};
}

} // namespace lastcall::harness::checks

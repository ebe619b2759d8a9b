#include "checks.hpp"

#include "check_facts.hpp"

#include <algorithm>
#include <csignal>

namespace lastcall::harness {

namespace checks {

Facts::Facts(const Scenario& s, const RunResult& r) : scenario(s), run(r) {
    for (const auto& sig : r.signals) {
        if (sig.marks_shutdown()) {
            signal_us = sig.t_us;
            delivered_us = std::max(sig.t_us, sig.returned_us);
            break;
        }
    }
    exit_us = r.exit ? r.exit_us : -1;
    if (r.report.state == TargetReportReading::State::ok && r.report.report) report = &*r.report.report;
    noticed_us = delivered_us;
    if (report && report->signal_at_unix_us > 0 && signal_us >= 0) {
        const auto at = report->signal_at_unix_us - r.run_start_unix_us;
        // Believed only inside [sending - 1 ms of clock slack, exit]: a report is the target's word.
        if (at >= signal_us - 1000 && (exit_us < 0 || at <= exit_us)) {
            noticed_us = std::max(at, delivered_us);
            noticed_from_report = true;
        }
    }
}

bool Facts::is_stream(const RequestRecord& r) const {
    return r.workload < scenario.workloads.size() && scenario.workloads[r.workload].kind == WorkloadKind::stream;
}

std::string Facts::nothing_recorded(std::string_view none_found) const {
    if (run.history_dropped == 0 && run.history_error.empty()) return std::string(none_found);
    return fmt::format("not recorded: history cap ({} of the {} requests were not kept past limits.history_bytes; among those kept, {})",
                       run.history_dropped, run.requests, none_found);
}

CheckResult make(std::string name, std::string bound, std::string measured, bool ok, std::string message) {
    return CheckResult{std::move(name), std::move(bound), std::move(measured), ok ? CheckStatus::pass : CheckStatus::fail,
                       ok ? std::string{} : std::move(message), {}};
}

CheckResult alive_until_signal(const RunResult& run) {
    // The first generation's end: it died before any signal, so no other generation was started.
    const auto* first = run.generations.empty() ? nullptr : &run.generations.front();
    const auto how = first && first->exit ? fmt::format("{} at {:.2f} s", first->exit->ended(), static_cast<double>(first->exit_us) / 1e6) : "died";
    auto c = make("alive_until_signal", "alive until the first signal", how, false, run.died_before_signal);
    c.at_us = first ? first->exit_us : -1;
    return c;
}

CheckResult skipped(std::string name, std::string why) { return CheckResult{std::move(name), "-", "-", CheckStatus::skip, std::move(why), {}}; }

CheckResult with_numbers(CheckResult c, CheckNumbers numbers) {
    c.numbers = std::move(numbers);
    return c;
}

CheckNumbers offending_count(std::size_t count, std::string unit, std::size_t bound) {
    return CheckNumbers{static_cast<double>(count), static_cast<double>(bound), std::nullopt, std::move(unit), "=="};
}

// Records are kept in the order they ended, ids in the order they began: near, not at, id - 1.
std::string proxy_record_text(const std::vector<proxy::ProxyRecord>& records, std::uint32_t id) {
    const auto it = std::find_if(records.begin(), records.end(), [id](const proxy::ProxyRecord& r) { return r.id == id; });
    return it == records.end() ? fmt::format("proxy record {} not kept", id) : proxy::describe(*it);
}

// A request's moment: its end, else its send, else its intent.
std::int64_t moment_of(const RequestRecord& r) { return r.done_us >= 0 ? r.done_us : r.sent_us >= 0 ? r.sent_us : r.intended_us; }

void Matches::add(const RequestRecord& r) {
    ++count_;
    if (first_.size() < keep_) first_.push_back(r);
    const auto t = moment_of(r);
    if (t >= 0 && (earliest_us_ < 0 || t < earliest_us_)) earliest_us_ = t;
}

void Matches::append(const Matches& later) {
    for (const auto& r : later.first_) {
        if (first_.size() < keep_ && first_.size() == count_) first_.push_back(r);  // these are all kept: room for the next
        ++count_;
    }
    count_ += later.count_ - later.first_.size();
    if (later.earliest_us_ >= 0 && (earliest_us_ < 0 || later.earliest_us_ < earliest_us_)) earliest_us_ = later.earliest_us_;
}

void add_evidence(CheckResult& c, const Matches& offending, const Facts& f) {
    // The check's moment: the earliest offending request, at its end (else its send, else its intent).
    if (offending.earliest_us() >= 0 && (c.at_us < 0 || offending.earliest_us() < c.at_us)) c.at_us = offending.earliest_us();
    const auto& records = offending.first();
    for (std::size_t i = 0; i < records.size() && i < evidence_limit; ++i) {
        c.evidence.push_back(describe_request(records[i], f.run.workload_names));
        c.evidence_requests.push_back(records[i].id);
        // A response lastcall's proxy made itself says what happened upstream (proxy.jsonl).
        const auto id = records[i].proxy_record;
        if (id > 0 && id <= f.run.proxy_records.size()) c.evidence.back() += "; " + proxy_record_text(f.run.proxy_records, id);
    }
    if (offending.size() > evidence_limit) c.evidence.push_back(fmt::format("... and {} more", offending.size() - evidence_limit));
}

} // namespace checks

std::string_view to_string(CheckStatus status) {
    switch (status) {
    case CheckStatus::pass: return "pass";
    case CheckStatus::fail: return "fail";
    case CheckStatus::skip: return "skip";
    }
    return "skip";
}

bool RunVerdict::passed() const {
    return error().empty() && std::none_of(checks.begin(), checks.end(), [](const CheckResult& c) { return c.status == CheckStatus::fail; });
}

std::string describe_request(const RequestRecord& r, const std::vector<std::string>& names) {
    using checks::seconds;
    return fmt::format("#{} {} conn {} reuse {}: intended {} sent {} first byte {} done {}, status {}{} -> {}{}{}", r.id,
                       r.workload < names.size() ? names[r.workload] : "?", r.connection_id, r.reuse_index, seconds(r.intended_us),
                       seconds(r.sent_us), seconds(r.first_byte_us), seconds(r.done_us), r.status, r.connection_close ? " (Connection: close)" : "",
                       to_string(r.outcome), r.failure == Failure::none ? "" : fmt::format(" ({})", to_string(r.failure)),
                       r.events ? fmt::format(", {} events", r.events) : "");
}

std::vector<CheckResult> evaluate_checks(const Scenario& scenario, const RunResult& run) {
    if (!run.start_error.empty()) return {};
    // Not made (target.pid1 without a PID namespace): one skipped entry says why, nothing is judged.
    if (!run.skipped.empty()) return {checks::skipped("target.pid1", run.skipped)};
    if (!run.died_before_signal.empty()) return {checks::alive_until_signal(run)};
    const checks::Facts f(scenario, run);
    std::vector<checks::CheckPass> passes;
    for (auto part : {checks::request_checks(f), checks::process_checks(f), checks::state_checks(f), checks::stream_checks(f),
                      checks::worker_checks(f)}) {
        passes.insert(passes.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    }
    // One pass over the history (on disk: each pass reads and decodes all of it) feeds every check
    // that reads requests; then each judges, in order.
    std::vector<const RecordVisitor*> visitors;
    for (const auto& p : passes) {
        if (p.visit) visitors.push_back(&p.visit);
    }
    if (!visitors.empty()) {
        f.for_each([&visitors](const RequestRecord& r) {
            for (const auto* visit : visitors) (*visit)(r);
        });
    }
    std::vector<CheckResult> all;
    all.reserve(passes.size());
    for (const auto& p : passes) all.push_back(p.judge());
    // Judged like the others, then set aside: the report still lists the check, saying who turned it off.
    const auto& off = scenario.expect.off;
    for (auto& c : all) {
        if (std::find(off.begin(), off.end(), c.name) != off.end()) c = checks::skipped(c.name, "off in the scenario");
    }
    return all;
}

} // namespace lastcall::harness

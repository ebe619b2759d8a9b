#include "scenario_invariants.hpp"

#include "scenario_ranges.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <set>
#include <string_view>

namespace lastcall::harness::testing {

namespace {

class Violations {
public:
    void require(bool holds, std::string_view rule, std::string_view where) {
        if (!holds) out.push_back(fmt::format("{}: {}", where, rule));
    }
    template <typename T>
    void in_range(T value, Range<T> range, std::string_view where) {
        require(range.contains(value), "out of its range", where);
    }
    std::vector<std::string> out;
};

bool all_of(std::string_view text, bool (*allowed)(unsigned char)) {
    return std::all_of(text.begin(), text.end(), [&](char c) { return allowed(static_cast<unsigned char>(c)); });
}
bool alnum(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool name_char(unsigned char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; }
bool tchar(unsigned char c) { return alnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos; }
bool path_char(unsigned char c) { return c > 0x20 && c < 0x7f; }
bool host_char(unsigned char c) { return c > 0x20 && c != 0x7f; }
bool value_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

bool safe_name(std::string_view name) {
    return !name.empty() && name.size() <= ranges::max_name_length && name.front() != '.' && all_of(name, name_char);
}
bool origin_form(std::string_view path) { return !path.empty() && path.front() == '/' && all_of(path, path_char); }
bool no_nul(std::string_view text) { return text.find('\0') == std::string_view::npos; }
// RFC 6901: empty, or '/'-separated tokens where '~' is only followed by 0 or 1.
bool json_pointer(std::string_view p) {
    if (!p.empty() && p.front() != '/') return false;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '~' && (i + 1 >= p.size() || (p[i + 1] != '0' && p[i + 1] != '1'))) return false;
    }
    return true;
}
bool matcher_ok(const EventMatcher& m) { return (m.event || m.data || m.data_contains) && !(m.data && m.data_contains); }

void check_target(Violations& v, const Target& t) {
    v.require(!t.command.empty(), "empty", "target.command");
    for (const auto& arg : t.command) v.require(no_nul(arg), "holds NUL", "target.command");
    for (const auto& [name, value] : t.env) {
        v.require(!name.empty() && name.find('=') == std::string::npos && no_nul(name) && no_nul(value), "bad name or NUL", "target.env");
    }
    v.require(!t.host.empty() && all_of(t.host, host_char), "empty or has spaces", "target.host");
    if (t.port) v.require(*t.port >= 1, "port 0", "target.port");
    v.in_range(t.ready.timeout, ranges::ready_timeout, "target.ready.timeout");
    v.require(t.ready.http_path.empty() || origin_form(t.ready.http_path), "not origin-form", "target.ready.http");
}

void check_workload(Violations& v, const Workload& w, Duration max_duration) {
    const auto where = fmt::format("workload {}", w.name);
    v.require(safe_name(w.name) && w.name != "all", "unsafe name", where);
    v.require(!w.request.method.empty() && all_of(w.request.method, tchar), "method not a token", where);
    v.require(origin_form(w.request.path), "path not origin-form", where);
    for (const auto& [name, value] : w.request.headers) {
        v.require(!name.empty() && all_of(name, tchar), "header name not a token", where);
        const bool trimmed = value.empty() || (value.front() != ' ' && value.front() != '\t' && value.back() != ' ' && value.back() != '\t');
        v.require(all_of(value, value_char) && trimmed, "header value with control characters or edge spaces", where);
    }
    v.in_range<std::int64_t>(w.connections, ranges::connections, where + " connections");
    v.in_range(w.think, ranges::think, where + " think");
    if (w.mode == LoadMode::open) {
        v.require(std::isfinite(w.rate) && ranges::rate.contains(w.rate), "rate out of range", where);
    } else {
        v.require(w.rate == 0, "closed loop with a rate", where);
    }
    v.in_range(w.start, ranges::start, where + " start");
    v.require(w.start < max_duration, "starts after the run ends", where);
    if (w.stop) {
        v.in_range(*w.stop, ranges::stop, where + " stop");
        v.require(*w.stop > w.start, "stops before it starts", where);
    }
    v.in_range(w.timeout, ranges::request_timeout, where + " timeout");
    if (w.stream.end) v.require(w.kind == WorkloadKind::stream && matcher_ok(*w.stream.end), "bad stream.end", where);
    if (w.stream.shutdown_notice) v.require(w.kind == WorkloadKind::stream && matcher_ok(*w.stream.shutdown_notice), "bad stream.shutdown_notice", where);
    if (w.job) {
        v.require(w.kind == WorkloadKind::job, "job: on another kind", where);
        v.require(json_pointer(w.job->id_pointer) && json_pointer(w.job->done_pointer), "job pointer not a JSON pointer", where);
        v.require(origin_form(w.job->poll) && w.job->poll.find("{id}") != std::string::npos, "job.poll", where);
        v.in_range(w.job->poll_interval, ranges::poll_interval, where + " job.poll_interval");
    }
    if (w.expect_body) {
        const auto& b = *w.expect_body;
        v.require(b.bytes || b.content_length_met || b.sha256, "empty expect_body", where);
        v.require(!b.sha256 || (b.sha256->size() == 64 && all_of(*b.sha256, [](unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })),
                  "sha256 not 64 lowercase hex digits", where);
    }
    if (w.max_requests) v.in_range<std::int64_t>(static_cast<std::int64_t>(*w.max_requests), ranges::max_requests, where + " max_requests");
}

void check_timeline(Violations& v, const Scenario& s, const std::set<std::string>& workloads) {
    for (const auto& e : s.timeline) {
        const auto where = fmt::format("timeline '{}'", e.description);
        v.require(e.at.has_value() != e.when.has_value(), "needs exactly one of at and when", where);
        if (e.at) v.in_range(*e.at, ranges::at, where + " at");
        v.in_range(e.delay, ranges::delay, where + " delay");
        v.require(e.at.value_or(Duration::zero()) + e.delay < s.max_duration, "fires after the run ends", where);
        v.in_range<std::int64_t>(e.count, ranges::repeat_count, where + " count");
        if (e.count > 1) {
            v.in_range(e.every, ranges::every, where + " every");
            v.require(e.at.value_or(Duration::zero()) + e.delay + e.every * (e.count - 1) < s.max_duration, "its last firing is after the run ends", where);
        }
        if (e.when && e.when->kind == Condition::Kind::in_flight_at_least) v.in_range(e.when->threshold, ranges::in_flight, where + " in_flight");
        if (const auto* signal = std::get_if<SignalAction>(&e.action)) {
            v.require(signal->signal >= 1 && signal->signal <= SIGRTMAX, "no such signal", where);
            if (signal->to == SignalTarget::child || signal->to == SignalTarget::worker) v.in_range<std::int64_t>(signal->child_index, ranges::child_index, where + " child");
        }
        if (const auto* pause = std::get_if<PauseAction>(&e.action)) v.in_range(pause->duration, ranges::pause, where + " pause");
        if (const auto* stop = std::get_if<StopLoadAction>(&e.action)) {
            for (const auto& name : stop->workloads) v.require(workloads.count(name) == 1, "unknown workload", where);
        }
        if (const auto* start = std::get_if<StartLoadAction>(&e.action)) v.require(workloads.count(start->workload) == 1, "unknown workload", where);
    }
}

void check_expectations(Violations& v, const Expectations& e, const std::set<std::string>& workloads) {
    for (const auto& bound : {e.readiness_flip, e.accepting_during_drain_delay, e.shutdown_time, e.stuck_abandoned_within, e.p99_during_drain,
                              std::optional<Duration>(e.drain_tail)}) {
        if (bound) v.in_range(*bound, ranges::expectation, "expect duration");
    }
    if (e.fd_leak) v.in_range(*e.fd_leak, ranges::expected_count, "expect.fd_leak");
    for (const auto count : {e.dropped, e.errors, e.orphans}) v.require(count <= static_cast<std::uint64_t>(ranges::unbounded), "count", "expect");
    v.require(!e.exit.empty(), "no exit", "expect.exit");
    for (const auto& exit : e.exit) {
        if (exit.by_signal) v.require(exit.value >= 1 && exit.value <= SIGRTMAX, "no such signal", "expect.exit");
        else v.in_range<std::int64_t>(exit.value, ranges::exit_code, "expect.exit");
    }
    if (const auto& a = e.acked_writes) {
        v.require(workloads.count(a->workload) == 1, "unknown workload", "expect.acked_writes");
        v.require(origin_form(a->read_path), "not origin-form", "expect.acked_writes.read.path");
        v.require(json_pointer(a->read_pointer), "not a JSON pointer", "expect.acked_writes.read.pointer");
        if (a->model == Expectations::AckedWrites::Model::set) v.require(json_pointer(a->element_pointer), "not a JSON pointer", "expect.acked_writes.element");
        else v.in_range<std::int64_t>(a->increment, ranges::increment, "expect.acked_writes.increment");
    }
}

} // namespace

std::vector<std::string> invariant_violations(const Scenario& s) {
    Violations v;
    v.require(safe_name(s.name), "unsafe name", "name");
    v.require(no_nul(s.description), "holds NUL", "description");
    v.in_range(s.max_duration, ranges::max_duration, "limits.max_duration");
    v.in_range<std::int64_t>(s.threads, ranges::threads, "threads");
    v.in_range<std::int64_t>(s.repeat, ranges::repeat, "repeat");
    v.in_range(s.jitter, ranges::jitter, "jitter");
    v.require(s.jitter <= s.max_duration, "longer than the run", "jitter");
    v.require(s.seed <= static_cast<std::uint64_t>(ranges::unbounded), "too large", "seed");
    check_target(v, s.target);
    std::set<std::string> workloads;
    for (const auto& w : s.workloads) {
        check_workload(v, w, s.max_duration);
        v.require(workloads.insert(w.name).second, "defined twice", "workload " + w.name);
    }
    check_timeline(v, s, workloads);
    check_expectations(v, s.expect, workloads);
    return v.out;
}

} // namespace lastcall::harness::testing

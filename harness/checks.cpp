#include "checks.hpp"
#include "signals.hpp"

#include "histogram.hpp"
#include "scenario_loader.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <map>

namespace lastcall::harness {

namespace {

constexpr std::size_t evidence_limit = 3;

std::string seconds(std::int64_t us) { return us < 0 ? "-" : fmt::format("{:.3f}s", static_cast<double>(us) / 1e6); }
std::string millis(std::int64_t us) { return fmt::format("{:.1f}ms", static_cast<double>(us) / 1e3); }
std::int64_t micros(Duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); }

// Everything a check needs, computed once.
struct Facts {
    const Scenario& scenario;
    const RunResult& run;
    std::int64_t signal_us = -1;  // the first shutdown signal (not STOP/CONT)
    std::int64_t exit_us = -1;

    Facts(const Scenario& s, const RunResult& r) : scenario(s), run(r) {
        for (const auto& sig : r.signals) {
            if (sig.signal != SIGSTOP && sig.signal != SIGCONT) {
                signal_us = sig.t_us;
                break;
            }
        }
        exit_us = r.exit ? r.exit_us : -1;
    }
    std::vector<const RequestRecord*> where(auto&& predicate) const {
        std::vector<const RequestRecord*> out;
        for (const auto& r : run.history) {
            if (predicate(r)) out.push_back(&r);
        }
        return out;
    }
    std::uint64_t outcome(Outcome o) const { return run.outcomes[static_cast<std::size_t>(o)]; }
    bool is_stream(const RequestRecord& r) const { return scenario.workloads[r.workload].kind == WorkloadKind::stream; }
};

CheckResult make(std::string name, std::string bound, std::string measured, bool ok, std::string message = {}) {
    return CheckResult{std::move(name), std::move(bound), std::move(measured), ok ? CheckStatus::pass : CheckStatus::fail,
                       ok ? std::string{} : std::move(message), {}};
}

CheckResult skipped(std::string name, std::string why) { return CheckResult{std::move(name), "-", "-", CheckStatus::skip, std::move(why), {}}; }

void add_evidence(CheckResult& c, const std::vector<const RequestRecord*>& records, const Facts& f) {
    for (std::size_t i = 0; i < records.size() && i < evidence_limit; ++i) {
        c.evidence.push_back(describe_request(*records[i], f.run.workload_names));
    }
    if (records.size() > evidence_limit) c.evidence.push_back(fmt::format("... and {} more", records.size() - evidence_limit));
}

CheckResult count_check(const Facts& f, const char* name, Outcome o, std::uint64_t bound) {
    const auto offending = f.where([o](const RequestRecord& r) { return r.outcome == o; });
    auto c = make(name, fmt::format("<= {}", bound), std::to_string(offending.size()), offending.size() <= bound,
                  fmt::format("{} requests were {}", offending.size(), to_string(o)));
    if (c.status == CheckStatus::fail) add_evidence(c, offending, f);
    return c;
}

CheckResult check_idle_close_race(const Facts& f) {
    const auto races = f.where([](const RequestRecord& r) { return r.outcome == Outcome::idle_close_race; });
    switch (f.scenario.expect.idle_close_race) {
    case Expectations::RacePolicy::tolerate:
        return make("idle_close_race", "tolerated", std::to_string(races.size()), true);
    case Expectations::RacePolicy::retried: {
        std::vector<const RequestRecord*> bad;
        for (const auto* race : races) {
            const auto retry = std::find_if(f.run.history.begin(), f.run.history.end(),
                                            [race](const RequestRecord& r) { return r.retry_of == race->id; });
            if (!race->retried || retry == f.run.history.end() || retry->outcome == Outcome::dropped) bad.push_back(race);
        }
        auto c = make("idle_close_race", "all retried", fmt::format("{} races, {} not retried cleanly", races.size(), bad.size()),
                      bad.empty(), "a request that crossed an idle close was not retried cleanly");
        add_evidence(c, bad, f);
        return c;
    }
    case Expectations::RacePolicy::fail:
        break;
    }
    auto c = make("idle_close_race", "== 0", std::to_string(races.size()), races.empty(),
                  "the server closed reused keep-alive connections under requests on their way");
    if (!races.empty()) add_evidence(c, races, f);
    return c;
}

CheckResult check_streams(const Facts& f) {
    if (!*f.scenario.expect.streams_clean) return skipped("streams_clean", "not expected");
    const auto streams = f.where([&](const RequestRecord& r) { return f.is_stream(r) && r.status != 0; });
    const auto cut = f.where([&](const RequestRecord& r) {
        return f.is_stream(r) && r.status == 200 && r.outcome != Outcome::ok && r.outcome != Outcome::ended_by_shutdown && r.outcome != Outcome::unknown;
    });
    auto c = make("streams_clean", "complete or ended_by_shutdown",
                  fmt::format("{} of {} clean", streams.size() - cut.size(), streams.size()), cut.empty(),
                  fmt::format("{} streams ended without their end event or chunked terminator", cut.size()));
    add_evidence(c, cut, f);
    return c;
}

CheckResult check_rejections(const Facts& f) {
    if (!f.scenario.expect.rejections_clean) return skipped("rejections_clean", "not expected");
    const auto bad = f.where([&](const RequestRecord& r) {
        const bool bare_503 = r.status == 503 && r.retry_after_s < 0;
        const bool refused_early = r.failure == Failure::connect_refused && (f.signal_us < 0 || r.done_us < f.signal_us);
        return bare_503 || refused_early;
    });
    auto c = make("rejections_clean", "Retry-After; none before signal", fmt::format("{} unclean", bad.size()),
                  bad.empty(), "rejections without Retry-After, or connections refused before any signal");
    add_evidence(c, bad, f);
    return c;
}

// When the target began draining, in run time: from its own report when it wrote one (it knows),
// else no earlier than its readiness flip plus any drain delay (the flip shows it saw the signal).
std::int64_t drain_start_us(const Facts& f, const nlohmann::json* report) {
    if (report) {
        const auto signal_at = report->value("signal_at_unix_us", std::int64_t{0});
        for (const auto& p : report->value("phases", nlohmann::json::array())) {
            if (p.value("phase", "") == "draining" && signal_at > 0) {
                return signal_at - f.run.run_start_unix_us + static_cast<std::int64_t>(p.value("start_ms", 0.0) * 1000);
            }
        }
    }
    std::int64_t noticed = f.signal_us;
    for (const auto& change : f.run.readiness) {
        if (!change.ready && change.t_us >= f.signal_us) {
            noticed = change.t_us;
            break;
        }
    }
    return noticed + micros(f.scenario.expect.accepting_during_drain_delay.value_or(Duration::zero()));
}

CheckResult check_close_announced(const Facts& f, const nlohmann::json* report) {
    if (!f.scenario.expect.close_announced || f.signal_us < 0) return skipped("close_announced", "no signal");
    // A response whose headers left after draining started must say Connection: close if the server
    // then closes. Headers sent before that could not know (a long download started earlier).
    const auto from = drain_start_us(f, report) + 2000;  // clocks and the response's own transit
    const auto bad = f.where([&](const RequestRecord& r) {
        return r.outcome == Outcome::ok && r.first_byte_us > from && (f.exit_us < 0 || r.done_us <= f.exit_us) && !r.connection_close &&
               r.closed_after;
    });
    auto c = make("close_announced", "announced while draining", fmt::format("{} unannounced closes", bad.size()),
                  bad.empty(), "the server closed keep-alive connections after responses that promised to keep them open");
    add_evidence(c, bad, f);
    return c;
}

CheckResult check_readiness_flip(const Facts& f) {
    const auto& bound = f.scenario.expect.readiness_flip;
    if (!bound) return skipped("readiness_flip", "not expected");
    if (f.scenario.target.ready.http_path.empty()) return skipped("readiness_flip", "target.ready has no http path");
    if (f.signal_us < 0) return skipped("readiness_flip", "no signal");
    std::int64_t flipped = -1;
    for (const auto& change : f.run.readiness) {
        if (!change.ready && change.t_us >= f.signal_us) {
            flipped = change.t_us;
            break;
        }
    }
    if (flipped < 0) return make("readiness_flip", fmt::format("< {}", millis(micros(*bound))), "never", false, "readiness never failed after the signal");
    const auto took = flipped - f.signal_us;
    return make("readiness_flip", fmt::format("< {}", millis(micros(*bound))), millis(took), took < micros(*bound),
                fmt::format("the readiness probe still passed {} after the signal (probed every 10 ms)", millis(took)));
}

CheckResult check_accepting_during_delay(const Facts& f) {
    const auto& delay = f.scenario.expect.accepting_during_drain_delay;
    if (!delay) return skipped("accepting_during_drain_delay", "not expected");
    if (f.signal_us < 0) return skipped("accepting_during_drain_delay", "no signal");
    const auto until = f.signal_us + micros(*delay) - 20'000;  // 20 ms margin for the delay's own end
    const auto bad = f.where([&](const RequestRecord& r) {
        return r.intended_us >= f.signal_us && r.intended_us < until && r.outcome == Outcome::rejected;
    });
    auto c = make("accepting_during_drain_delay", fmt::format("no rejection for {}", millis(micros(*delay))),
                  fmt::format("{} rejected", bad.size()), bad.empty(), "requests were refused while the drain delay should still accept them");
    add_evidence(c, bad, f);
    return c;
}

CheckResult check_shutdown_time(const Facts& f) {
    if (f.signal_us < 0 || f.exit_us < 0) return skipped("shutdown_time", "no signal or no exit");
    const auto took = f.exit_us - f.signal_us;
    const auto& bound = f.scenario.expect.shutdown_time;
    if (!bound) return make("shutdown_time", "- (measured)", millis(took), true);
    return make("shutdown_time", fmt::format("< {}", millis(micros(*bound))), millis(took), took < micros(*bound),
                fmt::format("shutdown took {}", millis(took)));
}

CheckResult check_drain_tail(const Facts& f) {
    if (f.exit_us < 0 || f.run.killed_by_scenario) return skipped("drain_tail", "no exit of its own");
    std::int64_t last = -1;
    for (const auto& r : f.run.history) {
        if (r.status != 0 && r.done_us <= f.exit_us) last = std::max(last, r.done_us);
    }
    if (last < 0) return skipped("drain_tail", "no response before exit");
    // With nothing in flight at the signal, the tail starts at the signal.
    const auto tail = f.exit_us - std::max(last, f.signal_us);
    const auto bound = micros(f.scenario.expect.drain_tail);
    return make("drain_tail", fmt::format("< {}", millis(bound)), millis(tail), tail < bound,
                fmt::format("the target lingered {} after its last response", millis(tail)));
}

CheckResult check_exit(const Facts& f) {
    const auto& want = f.scenario.expect.exit;
    const auto wanted = want.by_signal ? signal_name(want.value) : fmt::format("exit {}", want.value);
    if (!f.run.exit) return make("exit", wanted, "did not exit", false, "the target never exited");
    const auto& got = *f.run.exit;
    const bool ok = want.by_signal ? (!got.exited && got.signal == want.value) : (got.exited && got.code == want.value);
    auto c = make("exit", wanted, got.describe(), ok, fmt::format("expected {}, saw {}", wanted, got.describe()));
    if (!ok && f.run.limit_reached) c.evidence.push_back("the run hit limits.max_duration and lastcall killed the target");
    return c;
}

CheckResult check_orphans(const Facts& f) {
    auto c = make("orphans", fmt::format("<= {}", f.scenario.expect.orphans), std::to_string(f.run.orphans.size()),
                  f.run.orphans.size() <= f.scenario.expect.orphans, "processes of the target outlived it (killed by lastcall afterwards)");
    for (const auto pid : f.run.orphans) {
        if (c.evidence.size() < evidence_limit) c.evidence.push_back(fmt::format("pid {} still running after the target exited", pid));
    }
    return c;
}

// Our own connections open at `t`: the target holds one descriptor for each, and they are no leak.
// A connection is open from its first request until its last response, or until the run's end when
// that response left it alive (an idle keep-alive connection).
std::int64_t client_connections_open_at(const Facts& f, std::int64_t t) {
    struct Span {
        std::int64_t from = 0;
        const RequestRecord* last = nullptr;
    };
    std::map<std::uint64_t, Span> spans;  // (thread, connection id): connection ids are per thread
    for (const auto& r : f.run.history) {
        if (r.connection_id == 0 || r.sent_us < 0) continue;
        auto [it, fresh] = spans.try_emplace(((r.id & 0xff) << 32) | r.connection_id, Span{r.sent_us, &r});
        if (!fresh) {
            it->second.from = std::min(it->second.from, r.sent_us);
            if (r.done_us >= it->second.last->done_us) it->second.last = &r;
        }
    }
    return std::count_if(spans.begin(), spans.end(), [t](const auto& entry) {
        const auto& [from, last] = entry.second;
        const bool kept_alive = (last->outcome == Outcome::ok || last->outcome == Outcome::ended_by_shutdown) &&
                                !last->connection_close && !last->closed_after;
        return from <= t && (kept_alive || last->done_us >= t || last->closed_after_us >= t);  // open until lastcall saw it close
    });
}

CheckResult check_fd_leak(const Facts& f) {
    const auto& samples = f.run.samples;
    if (samples.size() < 2 || f.exit_us < 0) return skipped("fd_leak", "too few /proc samples");
    const auto& baseline = samples.front();
    const ProcSample* before_exit = &samples.front();
    for (const auto& s : samples) {
        if (s.t_us < f.exit_us) before_exit = &s;
    }
    const auto ours_then = client_connections_open_at(f, baseline.t_us);
    const auto ours_now = client_connections_open_at(f, before_exit->t_us);
    const auto allowance = f.scenario.expect.fd_leak.value_or(16);  // sockets mid-close, log files rotating...
    const auto grew = (static_cast<std::int64_t>(before_exit->fds) - ours_now) - (baseline.fds - ours_then);
    auto c = make("fd_leak", fmt::format("<= {}", allowance), fmt::format("{:+}", grew), grew <= allowance,
                  fmt::format("open descriptors grew by {} beyond the connections still open", grew));
    c.evidence.push_back(fmt::format("{} fds with {} of our connections at {} (baseline); {} fds with {} at {} (last sample before exit)",
                                     baseline.fds, ours_then, seconds(baseline.t_us), before_exit->fds, ours_now, seconds(before_exit->t_us)));
    if (c.status == CheckStatus::pass) c.evidence.clear();
    return c;
}

CheckResult check_acked_writes(const Facts& f) {
    const auto& workload = f.scenario.expect.acked_writes_workload;
    if (!workload) return skipped("acked_writes_durable", "not expected");
    std::int64_t by = 1;
    for (const auto& w : f.scenario.workloads) {
        if (w.name == *workload) {
            if (const auto at = w.request.path.find("by="); at != std::string::npos) by = std::stoll(w.request.path.substr(at + 3));
        }
    }
    std::int64_t acked = 0, uncertain = 0;
    for (const auto& r : f.run.history) {
        if (f.run.workload_names[r.workload] != *workload) continue;
        if (r.outcome == Outcome::ok) acked += by;
        else if (r.sent_us >= 0 && r.outcome != Outcome::rejected) uncertain += by;  // may or may not have applied
    }
    const auto bound = fmt::format("{} <= value <= {}", acked, acked + uncertain);
    if (!f.run.counter_after_restart) {
        return make("acked_writes_durable", bound, "no readback", false,
                    f.run.restarted ? f.run.counter_readback_error : "the scenario never restarted the target (add restart_target)");
    }
    const auto value = *f.run.counter_after_restart;
    auto c = make("acked_writes_durable", bound, std::to_string(value), value >= acked && value <= acked + uncertain,
                  value < acked ? fmt::format("{} acknowledged increments were lost across the restart", acked - value)
                                : "the state holds more than was ever sent");
    return c;
}

CheckResult check_jobs(const Facts& f) {
    if (!f.scenario.expect.jobs_accounted) return skipped("jobs_accounted", "not expected");
    const auto accepted = f.where([](const RequestRecord& r) { return r.job_id >= 0; });
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

CheckResult check_p99_during_drain(const Facts& f) {
    if (f.signal_us < 0) return skipped("p99_during_drain", "no signal");
    Histogram h;
    for (const auto& r : f.run.history) {
        if (r.outcome == Outcome::ok && r.done_us >= f.signal_us && (f.exit_us < 0 || r.done_us <= f.exit_us)) {
            h.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.done_us - r.intended_us)) * 1000);
        }
    }
    if (h.count() == 0) return skipped("p99_during_drain", "no request completed while draining");
    const auto p99_us = static_cast<std::int64_t>(h.percentile(99) / 1000);
    const auto measured = fmt::format("{} (p50 {}, {} requests)", millis(p99_us), millis(static_cast<std::int64_t>(h.percentile(50) / 1000)), h.count());
    const auto& bound = f.scenario.expect.p99_during_drain;
    if (!bound) return make("p99_during_drain", "- (measured)", measured, true);
    return make("p99_during_drain", fmt::format("< {}", millis(micros(*bound))), measured, p99_us < micros(*bound), "slow responses while draining");
}

CheckResult check_stuck_abandoned(const Facts& f, const nlohmann::json* report) {
    const auto& bound = f.scenario.expect.stuck_abandoned_within;
    if (!bound) return skipped("stuck_abandoned_within", "not expected");
    if (!report) return skipped("stuck_abandoned_within", "the target wrote no shutdown report");
    const auto& abandoned = report->value("abandoned_tasks", nlohmann::json::array());
    double tasks_end_ms = -1;
    for (const auto& p : report->value("phases", nlohmann::json::array())) {
        if (p.value("phase", "") == "tasks") tasks_end_ms = p.value("end_ms", -1.0);
    }
    const auto measured = fmt::format("{} abandoned by {:.1f}ms", abandoned.size(), tasks_end_ms);
    const bool ok = !abandoned.empty() && tasks_end_ms >= 0 && tasks_end_ms * 1000 < static_cast<double>(micros(*bound));
    auto c = make("stuck_abandoned_within", fmt::format("< {}", millis(micros(*bound))), measured, ok,
                  abandoned.empty() ? "no task was abandoned" : "abandoning the stuck task took too long");
    for (const auto& name : abandoned) c.evidence.push_back(fmt::format("abandoned: {}", name.get<std::string>()));
    if (ok) c.evidence.clear();
    return c;
}

CheckResult check_shutdown_report(const Facts& f, const nlohmann::json* report) {
    if (!f.scenario.expect.shutdown_report) return skipped("shutdown_report", "not expected");
    if (!report) return skipped("shutdown_report", "the target wrote no shutdown report");
    std::vector<std::string> problems;
    static const std::vector<std::string> order{"preparing", "draining", "tasks", "cleaning", "persisting", "exiting"};
    std::size_t next = 0;
    double previous_end = 0;
    for (const auto& p : report->value("phases", nlohmann::json::array())) {
        const auto name = p.value("phase", "");
        const auto at = std::find(order.begin() + static_cast<std::ptrdiff_t>(next), order.end(), name);
        if (at == order.end()) problems.push_back(fmt::format("phase {} out of order", name));
        else next = static_cast<std::size_t>(at - order.begin()) + 1;
        if (p.value("start_ms", 0.0) + 0.001 < previous_end) problems.push_back(fmt::format("phase {} starts before the previous one ended", name));
        previous_end = p.value("end_ms", 0.0);
        const auto outcome = p.value("outcome", "");
        const bool expect_clean = !f.scenario.expect.exit.by_signal && f.scenario.expect.exit.value == 0;
        if (expect_clean && (outcome == "timed_out" || outcome == "failed")) {
            problems.push_back(fmt::format("phase {} {}: {}", name, outcome, p.value("detail", "")));
        }
    }
    if (f.run.exit && f.run.exit->exited && report->value("exit_code", -1) != f.run.exit->code) {
        problems.push_back(fmt::format("report says exit {}, the process exited {}", report->value("exit_code", -1), f.run.exit->code));
    }
    const auto told = report->value("counts", nlohmann::json::object()).value("streams_ended_by_shutdown", 0);
    const auto seen = static_cast<long>(f.outcome(Outcome::ended_by_shutdown));
    if (seen > told) problems.push_back(fmt::format("the harness saw {} streams ended by shutdown, the report counts {}", seen, told));
    auto c = make("shutdown_report", "ordered, in budget, consistent", problems.empty() ? "consistent" : fmt::format("{} problems", problems.size()),
                  problems.empty(), problems.empty() ? "" : problems.front());
    for (std::size_t i = 0; i < problems.size() && i < evidence_limit; ++i) c.evidence.push_back(problems[i]);
    return c;
}

} // namespace

std::string_view to_string(CheckStatus status) {
    switch (status) {
    case CheckStatus::pass: return "pass";
    case CheckStatus::fail: return "fail";
    case CheckStatus::skip: return "skip";
    }
    return "skip";
}

bool RunVerdict::passed() const {
    return std::none_of(checks.begin(), checks.end(), [](const CheckResult& c) { return c.status == CheckStatus::fail; });
}

std::string describe_request(const RequestRecord& r, const std::vector<std::string>& names) {
    return fmt::format("#{} {} conn {} reuse {}: intended {} sent {} first byte {} done {}, status {}{} -> {}{}{}", r.id,
                       r.workload < names.size() ? names[r.workload] : "?", r.connection_id, r.reuse_index, seconds(r.intended_us),
                       seconds(r.sent_us), seconds(r.first_byte_us), seconds(r.done_us), r.status, r.connection_close ? " (Connection: close)" : "",
                       to_string(r.outcome), r.failure == Failure::none ? "" : fmt::format(" ({})", to_string(r.failure)),
                       r.events ? fmt::format(", {} events", r.events) : "");
}

std::vector<CheckResult> evaluate_checks(const Scenario& scenario, const RunResult& run) {
    const Facts f(scenario, run);
    std::optional<nlohmann::json> report;
    if (!run.shutdown_report.empty()) {
        try {
            report = nlohmann::json::parse(run.shutdown_report);
        } catch (const nlohmann::json::exception&) {
            report.reset();
        }
    }
    const auto* report_ptr = report ? &*report : nullptr;
    const auto& e = scenario.expect;
    return {
        count_check(f, "dropped", Outcome::dropped, e.dropped),
        check_idle_close_race(f),
        count_check(f, "errors", Outcome::error, e.errors),
        check_streams(f),
        check_rejections(f),
        check_close_announced(f, report_ptr),
        check_readiness_flip(f),
        check_accepting_during_delay(f),
        check_shutdown_time(f),
        check_drain_tail(f),
        check_exit(f),
        check_orphans(f),
        make("port_released", "released", run.port_released ? "released" : "still bound", run.port_released || !e.port_released,
             fmt::format("port {} could not be bound after the target exited", run.port)),
        check_fd_leak(f),
        check_acked_writes(f),
        check_jobs(f),
        check_stuck_abandoned(f, report_ptr),
        check_p99_during_drain(f),
        check_shutdown_report(f, report_ptr),
    };
}

} // namespace lastcall::harness

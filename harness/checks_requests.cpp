// Checks over the fate of requests: dropped, races, errors, streams, rejections, announcements.
#include "check_facts.hpp"

#include "histogram.hpp"
#include "stream_end.hpp"

#include <algorithm>
#include <array>
#include <unordered_map>

namespace lastcall::harness::checks {

namespace {

CheckResult workloads_ran(const Facts& f, const std::vector<std::uint64_t>& made);

CheckPass check_workloads_ran(const Facts& f) {
    using Made = std::vector<std::uint64_t>;  // requests by workload
    return with_state(
        Made(f.scenario.workloads.size(), 0),
        [](Made& made, const RequestRecord& r) {
            if (r.workload < made.size()) ++made[r.workload];
        },
        [&f](const Made& made) { return workloads_ran(f, made); });
}

// An open loop's arrivals never sent, beyond the schedule's ragged edge. A stall mid-run is caught
// up (late arrivals keep their intended start), but a stall of the load thread at the stop (a busy
// CI machine deschedules it for tens of ms) leaves the last ones due and not started: 250 ms of
// arrivals, 2 % of those due or one per thread is that edge, not a shortfall.
bool fell_short(const OpenLoopTally& t, double rate, int threads) {
    const auto not_sent = t.behind + t.skipped;
    const auto edge = std::max({static_cast<std::uint64_t>(std::max(threads, 1)), t.due() / 50, static_cast<std::uint64_t>(rate / 4)});
    return not_sent > edge;
}

std::string rate_text(double rate) { return rate >= 1 ? fmt::format("{:.0f}/s", rate) : fmt::format("{:g}/s", rate); }

// "workload 'burst' started 120345 of the 10000000 arrivals its 10000000/s schedule had due in
// 1.00 s (about 120345/s): 9879655 never started, lastcall could not keep up"
std::string shortfall_text(const std::string& name, const OpenLoopTally& t, double rate) {
    const auto seconds = std::chrono::duration<double>(t.scheduled).count();
    auto text = fmt::format("workload '{}' started {} of the {} arrivals its {} schedule had due in {:.2f} s (about {:.0f}/s)", name, t.started,
                            t.due(), rate_text(rate), seconds, seconds > 0 ? static_cast<double>(t.started) / seconds : 0.0);
    if (t.behind > 0) text += fmt::format(": {} never started, lastcall could not keep up (its CPU, not the target)", t.behind);
    if (t.skipped > 0) text += fmt::format("{} {} skipped, 20000 requests per thread being outstanding already", t.behind > 0 ? ";" : ":", t.skipped);
    return text;
}

CheckResult workloads_ran(const Facts& f, const std::vector<std::uint64_t>& made) {
    std::vector<std::string> idle;
    for (std::size_t i = 0; i < made.size(); ++i) {
        // The run's counters, not the records alone: past limits.history_bytes a workload's
        // requests may all be among those not kept.
        const auto counted = i < f.run.requests_by_workload.size() ? f.run.requests_by_workload[i] : 0;
        if (made[i] == 0 && counted == 0) idle.push_back(f.scenario.workloads[i].name);
    }
    // An open loop that drove less than its rate promised: what it tested is not what the scenario
    // says. A failed check, as for a workload that never ran, not an error: the target started and
    // the scenario is valid (docs/design.md's exit 3 and 2 do not apply), and the run's other
    // verdicts stand for the load that was driven (evidence names it); exit 1 keeps a CI gate from
    // passing it.
    std::vector<std::string> short_of_rate;
    const auto& tallies = f.run.open_loops;
    for (std::size_t i = 0; i < tallies.size() && i < f.scenario.workloads.size(); ++i) {
        const auto& w = f.scenario.workloads[i];
        if (w.mode == LoadMode::open && fell_short(tallies[i], w.rate, f.scenario.threads)) short_of_rate.push_back(shortfall_text(w.name, tallies[i], w.rate));
    }
    // A workload that never ran proves nothing about the target: a pass would be a silent one.
    auto measured = fmt::format("{} of {} ran", made.size() - idle.size(), made.size());
    if (!short_of_rate.empty()) measured += fmt::format(", {} short of its rate", short_of_rate.size());
    std::string message;
    if (!idle.empty()) message = fmt::format("{} made no request at all", idle.size() == 1 ? "workload '" + idle[0] + "'" : fmt::format("{} workloads", idle.size()));
    if (!short_of_rate.empty()) message += (message.empty() ? "" : "; ") + short_of_rate.front();
    const bool any_open = std::any_of(f.scenario.workloads.begin(), f.scenario.workloads.end(), [](const Workload& w) { return w.mode == LoadMode::open; });
    auto c = make("workloads_ran", any_open ? "every workload made requests, open ones at their rate" : "every workload made requests", measured, idle.empty() && short_of_rate.empty(), message);
    c.numbers = offending_count(idle.size() + short_of_rate.size(), "workloads");
    for (std::size_t i = 0; i < idle.size() && i < evidence_limit; ++i) {
        c.evidence.push_back(fmt::format("workload '{}' made no request (check its start, stop, rate and the run's length)", idle[i]));
    }
    // The message names the first shortfall; the evidence lists them when there is more to say.
    if (short_of_rate.size() > 1 || !idle.empty()) {
        for (std::size_t i = 0; i < short_of_rate.size() && c.evidence.size() < evidence_limit; ++i) c.evidence.push_back(short_of_rate[i]);
    }
    return c;
}

CheckResult harness_errors(const Facts& f, const Matches& offending);

// lastcall failing on its own side makes every other verdict doubtful: never pass over it.
CheckPass check_harness_errors(const Facts& f) {
    return over_matches([](const RequestRecord& r) { return r.failure == Failure::harness_error; },
                        [&f](const Matches& offending) { return harness_errors(f, offending); });
}

CheckResult harness_errors(const Facts& f, const Matches& offending) {
    const auto count = std::max<std::uint64_t>(offending.size(), f.run.harness_errors);
    // A history that lost records (limits.history_bytes reached, a disk full) judged only part of the run.
    const auto& run = f.run;
    const bool history_whole = run.history_dropped == 0 && run.history_error.empty();
    auto c = make("harness_errors", "== 0", std::to_string(count + run.history_dropped), count == 0 && history_whole,
                  count > 0 ? fmt::format("lastcall itself failed on {} requests (events.jsonl names each): the other verdicts are in doubt", count)
                            : std::string("lastcall's history of the run is incomplete: the other verdicts judged part of it"));
    if (run.history_dropped > 0) {
        c.evidence.push_back(fmt::format("{} requests were not recorded: the history reached limits.history_bytes ({} bytes{})",
                                         run.history_dropped, run.history_limit,
                                         run.history_limit_lowered.empty() ? "" : ", lowered to " + run.history_limit_lowered));
    }
    if (!run.history_error.empty()) c.evidence.push_back("the history: " + run.history_error);
    c.numbers = offending_count(count + run.history_dropped, "requests");
    add_evidence(c, offending, f);
    return c;
}

// "58844 requests were error" read badly (every request got a 404): an error is an answer, a
// status other than 2xx or 503, or a response that broke its contract (history.cpp classify()).
std::string count_message(std::size_t n, Outcome o) {
    if (o == Outcome::error) return fmt::format("{} requests were answered with an error status or a broken response", n);
    return fmt::format("{} requests were {}", n, to_string(o));
}

CheckPass count_check(const Facts& f, const char* name, Outcome o, std::uint64_t bound) {
    return over_matches([o](const RequestRecord& r) { return r.outcome == o; },
                        [&f, name, o, bound](const Matches& offending) {
                            auto c = make(name, fmt::format("<= {}", bound), std::to_string(offending.size()), offending.size() <= bound,
                                          count_message(offending.size(), o));
                            c.numbers = CheckNumbers{static_cast<double>(offending.size()), static_cast<double>(bound), std::nullopt, "requests", "<="};
                            if (c.status == CheckStatus::fail) add_evidence(c, offending, f);
                            // A target that accepted requests and never sent one byte back (an `nc -l`,
                            // a server on the wrong port or hung) has its requests dropped at its exit:
                            // the verdict is right, and the cause is not its shutdown.
                            if (c.status == CheckStatus::fail && o == Outcome::dropped && f.run.answers.first_byte_us < 0) {
                                c.message += "; the target sent no byte back to any request of the run: is it an HTTP server on this port, and not hung?";
                            }
                            return c;
                        });
}

// Races whose retry is missing or was dropped (the first attempt naming the race as retry_of
// decides, as in the history's order). A join: races are judged a batch at a time, each batch
// against passes of its own over the history (only with `idle_close_race: retried` and races in
// the run): what is held stays bounded however many races there were.
Matches races_not_retried(const Facts& f) {
    constexpr std::size_t batch = 8192;
    const auto is_race = [](const RequestRecord& r) { return r.outcome == Outcome::idle_close_race; };
    Matches bad;
    for (std::uint64_t done = 0;;) {
        std::vector<RequestRecord> races;  // the next batch, in order
        std::uint64_t seen = 0;
        f.for_each([&](const RequestRecord& r) {
            if (is_race(r) && seen++ >= done && races.size() < batch) races.push_back(r);
        });
        if (races.empty()) return bad;
        std::unordered_map<std::uint64_t, bool> retry_dropped;  // race id -> its first retry was dropped
        for (const auto& race : races) retry_dropped.emplace(race.id, false);
        std::unordered_map<std::uint64_t, bool> retry_seen;
        f.for_each([&](const RequestRecord& r) {
            if (r.retry_of == 0) return;
            const auto it = retry_dropped.find(r.retry_of);
            if (it == retry_dropped.end() || !retry_seen.emplace(r.retry_of, true).second) return;
            it->second = r.outcome == Outcome::dropped;
        });
        for (const auto& race : races) {
            if (!race.retried || !retry_seen.contains(race.id) || retry_dropped[race.id]) bad.add(race);
        }
        done += races.size();
    }
}

CheckResult idle_close_race(const Facts& f, const Matches& races);

CheckPass check_idle_close_race(const Facts& f) {
    return over_matches([](const RequestRecord& r) { return r.outcome == Outcome::idle_close_race; },
                        [&f](const Matches& races) { return idle_close_race(f, races); });
}

CheckResult idle_close_race(const Facts& f, const Matches& races) {
    switch (f.scenario.expect.idle_close_race) {
    case Expectations::RacePolicy::tolerate:
        return with_numbers(make("idle_close_race", "tolerated", std::to_string(races.size()), true),
                            CheckNumbers{static_cast<double>(races.size()), std::nullopt, std::nullopt, "requests", ""});
    case Expectations::RacePolicy::retried: {
        const auto bad = races.empty() ? Matches() : races_not_retried(f);
        auto c = make("idle_close_race", "all retried", fmt::format("{} races, {} not retried cleanly", races.size(), bad.size()),
                      bad.empty(), "a request that crossed an idle close was not retried cleanly");
        c.numbers = offending_count(bad.size(), "requests");  // races not retried cleanly
        add_evidence(c, bad, f);
        return c;
    }
    case Expectations::RacePolicy::fail:
        break;
    }
    auto c = make("idle_close_race", "== 0", std::to_string(races.size()), races.empty(),
                  "the server closed reused keep-alive connections under requests on their way");
    c.numbers = offending_count(races.size(), "requests");
    if (!races.empty()) add_evidence(c, races, f);
    return c;
}

// What made a stream of this workload count as complete, in words.
std::string clean_end_of(const Workload& w) {
    if (!w.stream.end) return "ended with the HTTP message";
    return fmt::format("ended with marker {}", describe(*w.stream.end));
}

struct StreamEnds {
    Matches cut, never_ended;
    // Per stream workload: streams, clean ones, ended by the shutdown notice.
    std::vector<std::array<std::uint64_t, 3>> counts;
};

CheckResult streams_clean(const Facts& f, const StreamEnds& ends);

CheckPass check_streams(const Facts& f) {
    if (!f.scenario.expect.streams_clean.value_or(false)) return decided(skipped("streams_clean", "not expected"));
    StreamEnds ends;
    ends.counts.resize(f.scenario.workloads.size());
    return with_state(
        std::move(ends),
        [&f](StreamEnds& e, const RequestRecord& r) {
            if (!f.is_stream(r) || r.status / 100 != 2) return;
            auto& n = e.counts[r.workload];
            ++n[0];
            if (r.outcome == Outcome::ended_by_shutdown) ++n[2];
            if (r.outcome == Outcome::ok || r.outcome == Outcome::ended_by_shutdown) {
                ++n[1];
                return;
            }
            // A stream still open when the target was killed never ended at all: that is not clean either.
            (r.outcome == Outcome::unknown ? e.never_ended : e.cut).add(r);
        },
        [&f](const StreamEnds& e) { return streams_clean(f, e); });
}

CheckResult streams_clean(const Facts& f, const StreamEnds& ends) {
    const auto& [cut, never_ended, counts] = ends;
    // What counted as clean, said per workload: "events: 4 of 4 ended with marker data: [DONE]".
    std::string measured;
    for (std::size_t i = 0; i < f.scenario.workloads.size(); ++i) {
        const auto& w = f.scenario.workloads[i];
        if (w.kind != WorkloadKind::stream) continue;
        const auto& [total, good, by_notice] = counts[i];
        measured += fmt::format("{}{}: {} of {} {}", measured.empty() ? "" : "; ", w.name, good - by_notice, total, clean_end_of(w));
        if (w.stream.shutdown_notice) measured += fmt::format(", {} by shutdown notice {}", by_notice, describe(*w.stream.shutdown_notice));
    }
    const auto unclean = cut.size() + never_ended.size();
    auto c = make("streams_clean", "every stream complete or ended by its shutdown notice", measured, unclean == 0,
                  cut.empty() ? fmt::format("{} streams were still open when the target was killed: they never ended", never_ended.size())
                              : fmt::format("{} streams were cut or ended without their end marker{}", cut.size(),
                                            never_ended.empty() ? "" : fmt::format(", {} never ended before the kill", never_ended.size())));
    c.numbers = offending_count(unclean, "streams");
    auto offending = cut;
    offending.append(never_ended);
    add_evidence(c, offending, f);
    return c;
}

CheckPass check_rejections(const Facts& f) {
    if (!f.scenario.expect.rejections_clean) return decided(skipped("rejections_clean", "not expected"));
    return over_matches(
        [&f](const RequestRecord& r) {
            const bool bare_503 = r.status == 503 && r.retry_after_s == -1;  // -2: an HTTP-date, which is fine
            const bool refused_early = r.failure == Failure::connect_refused && (f.signal_us < 0 || r.done_us < f.signal_us);
            return bare_503 || refused_early;
        },
        [&f](const Matches& bad) {
            auto c = make("rejections_clean", "Retry-After; none before signal", fmt::format("{} unclean", bad.size()), bad.empty(),
                          "rejections without Retry-After, or connections refused before any signal");
            c.numbers = offending_count(bad.size(), "requests");
            add_evidence(c, bad, f);
            return c;
        });
}

// A moment by which the target had certainly begun draining, and what says so.
struct DrainEvidence {
    std::int64_t by_us = -1;
    std::string source;
};

// From the target's own report, known before any request is read; by_us -1 without one.
DrainEvidence drain_from_report(const Facts& f) {
    if (f.report && f.report->signal_at_unix_us > 0) {
        if (const auto* draining = f.report->phase("draining")) {
            const auto at = f.report->signal_at_unix_us - f.run.run_start_unix_us + static_cast<std::int64_t>(draining->start_ms * 1000);
            return {at + 1000, "the target's shutdown report"};  // a millisecond for the two clocks
        }
    }
    return {};
}

// A refusal that shows the listener closed while draining.
bool refused_while_draining(const Facts& f, const RequestRecord& r) {
    return r.failure == Failure::connect_refused && r.done_us >= f.signal_us && (f.exit_us < 0 || r.done_us <= f.exit_us);
}

struct Announcements {
    std::int64_t first_refused_us = -1;  // the first refusal while draining, in the history's order
    std::uint64_t judged = 0;
    Matches bad = Matches();
};

// A response to a request that left the client after draining had certainly begun was written
// after that too, whatever the client's scheduling: if its connection was then closed, it had to
// say Connection: close. Responses to earlier requests may have been written before draining
// (seen late by a busy client): they are not judged.
void judge_announcement(const Facts& f, std::int64_t drain_by_us, const RequestRecord& r, Announcements& a) {
    const bool complete_response = r.status != 0 && r.outcome != Outcome::dropped && r.outcome != Outcome::unknown;
    if (!complete_response || r.sent_us <= drain_by_us || (f.exit_us >= 0 && r.done_us > f.exit_us)) return;
    ++a.judged;
    if (!r.connection_close && r.closed_after) a.bad.add(r);
}

CheckResult close_announced(const Facts& f, const DrainEvidence& drain, const Announcements& a) {
    auto c = make("close_announced", "announced while draining", fmt::format("{} of {} unannounced", a.bad.size(), a.judged), a.bad.empty(),
                  "the server closed keep-alive connections after responses that promised to keep them open");
    c.numbers = offending_count(a.bad.size(), "responses");
    if (!a.bad.empty()) {
        c.evidence.push_back(fmt::format("judged: responses to requests sent after {} (draining had begun by then, per {})",
                                         seconds(drain.by_us), drain.source));
    }
    add_evidence(c, a.bad, f);
    return c;
}

// When draining had certainly begun, by upper bounds only: the target's own report, a refused
// connection (the listener was closed), its exit. With the report, the responses are judged in the
// one pass; without, that pass finds the first refusal and a pass of its own judges them.
CheckPass check_close_announced(const Facts& f) {
    if (!f.scenario.expect.close_announced || f.signal_us < 0) return decided(skipped("close_announced", "no signal"));
    const auto reported = drain_from_report(f);
    return with_state(
        Announcements{},
        [&f, reported](Announcements& a, const RequestRecord& r) {
            if (reported.by_us >= 0) judge_announcement(f, reported.by_us, r, a);
            else if (a.first_refused_us < 0 && refused_while_draining(f, r)) a.first_refused_us = r.done_us;
        },
        [&f, reported](Announcements& a) {
            if (reported.by_us >= 0) return close_announced(f, reported, a);
            const DrainEvidence drain = a.first_refused_us >= 0 ? DrainEvidence{a.first_refused_us, fmt::format("a connection refused at {}", seconds(a.first_refused_us))}
                                        : f.exit_us >= 0        ? DrainEvidence{f.exit_us, "the target's exit"}
                                                                : DrainEvidence{};
            if (drain.by_us < 0) return skipped("close_announced", f.nothing_recorded("no evidence of when draining began"));
            f.for_each([&](const RequestRecord& r) { judge_announcement(f, drain.by_us, r, a); });
            return close_announced(f, drain, a);
        });
}

CheckPass check_accepting_during_delay(const Facts& f) {
    const auto& delay = f.scenario.expect.accepting_during_drain_delay;
    if (!delay) return decided(skipped("accepting_during_drain_delay", "not expected"));
    if (f.signal_us < 0) return decided(skipped("accepting_during_drain_delay", "no signal"));
    const auto until = f.signal_us + micros(*delay) - 20'000;  // 20 ms margin for the delay's own end
    return over_matches(
        [&f, until](const RequestRecord& r) { return r.intended_us >= f.signal_us && r.intended_us < until && r.outcome == Outcome::rejected; },
        [&f, delay](const Matches& bad) {
            auto c = make("accepting_during_drain_delay", fmt::format("no rejection for {}", millis(micros(*delay))),
                          fmt::format("{} rejected", bad.size()), bad.empty(), "requests were refused while the drain delay should still accept them");
            c.numbers = offending_count(bad.size(), "requests");
            add_evidence(c, bad, f);
            return c;
        });
}

CheckPass check_p99_during_drain(const Facts& f) {
    if (f.signal_us < 0) return decided(skipped("p99_during_drain", "no signal"));
    return with_state(
        Histogram{},
        [&f](Histogram& h, const RequestRecord& r) {
            if (r.outcome == Outcome::ok && r.done_us >= f.signal_us && (f.exit_us < 0 || r.done_us <= f.exit_us)) {
                h.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.done_us - r.intended_us)) * 1000);
            }
        },
        [&f](const Histogram& h) {
            if (h.count() == 0) return skipped("p99_during_drain", f.nothing_recorded("no request completed while draining"));
            const auto p99_us = static_cast<std::int64_t>(h.percentile(99) / 1000);
            const auto measured =
                fmt::format("{} (p50 {}, {} requests)", millis(p99_us), millis(static_cast<std::int64_t>(h.percentile(50) / 1000)), h.count());
            const auto& bound = f.scenario.expect.p99_during_drain;
            if (!bound) {
                return with_numbers(make("p99_during_drain", std::string(measured_only_bound), measured, true),
                                    CheckNumbers{as_ms(p99_us), std::nullopt, std::nullopt, "ms", ""});
            }
            return with_numbers(make("p99_during_drain", fmt::format("< {}", millis(micros(*bound))), measured, p99_us < micros(*bound),
                                     "slow responses while draining"),
                                CheckNumbers{as_ms(p99_us), as_ms(micros(*bound)), std::nullopt, "ms", "<"});
        });
}

} // namespace

std::vector<CheckPass> request_checks(const Facts& f) {
    const auto& e = f.scenario.expect;
    return {
        check_workloads_ran(f),
        check_harness_errors(f),
        count_check(f, "dropped", Outcome::dropped, e.dropped),
        check_idle_close_race(f),
        count_check(f, "errors", Outcome::error, e.errors),
        check_streams(f),
        check_rejections(f),
        check_close_announced(f),
        check_accepting_during_delay(f),
        check_p99_during_drain(f),
    };
}

} // namespace lastcall::harness::checks

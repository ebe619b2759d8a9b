// The master/worker checks, off unless named in `expect:`: zero_downtime across each reload, and
// workers_drained over how the judged main process's children ended. Births and deaths come from
// lastcall's own view of the processes (start times in /proc, a scan every 50 ms), exit statuses
// from the target's report: lastcall is not the workers' parent, so the kernel tells it nothing.
#include "check_facts.hpp"

#include "signals.hpp"

#include <algorithm>
#include <charconv>
#include <csignal>
#include <optional>

namespace lastcall::harness::checks {

namespace {

constexpr std::int64_t tick_us = 10'000;    // start times in /proc are in 10 ms ticks
constexpr std::int64_t settle_us = 200'000;  // a reload's window runs on this long after the last old worker ended

const GenerationSummary* judged(const Facts& f) {
    const auto i = static_cast<std::size_t>(f.run.judged_generation - 1);
    return i < f.run.generations.size() ? &f.run.generations[i] : nullptr;
}

std::vector<const ProcessLife*> children_of(const Facts& f, pid_t parent) {
    std::vector<const ProcessLife*> out;
    for (const auto& p : f.run.processes) {
        if (p.parent == parent) out.push_back(&p);
    }
    return out;
}

bool signalled_by_lastcall(const Facts& f, std::int64_t pid) {
    return std::any_of(f.run.signals.begin(), f.run.signals.end(), [pid](const SignalSent& s) {
        return s.delivered && std::find(s.pids.begin(), s.pids.end(), static_cast<pid_t>(pid)) != s.pids.end();
    });
}

std::string describe(const ProcessLife& p) { return fmt::format("pid {} ({})", p.pid, p.command.empty() ? "?" : p.command); }

// ---- zero_downtime

// One reload's judgement, from the processes alive when it was sent, then the requests around it.
struct ReloadJudgement {
    std::vector<std::string> problems;
    Matches offending;
    std::uint64_t dropped = 0, refused = 0, races = 0, slow = 0, not_ready = 0;
    std::size_t old_count = 0, new_count = 0;
    std::int64_t took_us = 0;  // from the reload to the last old worker's end
    std::string first_not_ready;
    // What the requests are judged against (judging_requests: none when the processes already failed it).
    bool judging_requests = false;
    std::int64_t t = 0, last_old_end = -1, window_end = -1, service_end_us = -1;
    bool served_after = false;
};

// The processes' part, before any request is read.
ReloadJudgement judge_reload_processes(const Facts& f, const SignalSent& reload, pid_t main, std::int64_t service_end_us) {
    const auto& bound = *f.scenario.expect.zero_downtime;
    ReloadJudgement j;
    const auto t = reload.t_us;
    j.t = t;
    j.service_end_us = service_end_us;
    const auto at = seconds(t);
    std::vector<const ProcessLife*> old, fresh;
    for (const auto* p : children_of(f, main)) {
        if (p->end_us() >= 0 && p->end_us() <= t) continue;  // ended before the reload
        // Alive at the reload: seen before it, or born a whole tick before it.
        if (p->first_seen_us <= t || p->spawn_us + tick_us < t) old.push_back(p);
        else fresh.push_back(p);
    }
    j.old_count = old.size();
    if (old.empty()) {
        j.problems.push_back(fmt::format("reload at {}: the target (pid {}) had no child alive to replace", at, main));
        return j;
    }
    std::int64_t last_old_end = -1;
    for (const auto* p : old) {
        // Still alive only if a scan saw it so at the end of service: a scan starved past it
        // (gone_us later) leaves its end somewhere after last_seen_us, which is no evidence.
        const bool alive_at_end = p->end_us() < 0 || (p->exit_us >= 0 ? p->exit_us > service_end_us : p->last_seen_us >= service_end_us);
        if (alive_at_end) {
            j.problems.push_back(fmt::format("reload at {}: old worker {} was still alive at {} (the shutdown signal or the end)", at, describe(*p),
                                             seconds(service_end_us)));
        }
        last_old_end = std::max(last_old_end, p->end_us() < 0 ? service_end_us : std::min(p->end_us(), service_end_us));
    }
    j.took_us = last_old_end - t;
    if (j.took_us > micros(bound.within)) {
        j.problems.push_back(fmt::format("reload at {}: the old workers ended {} after it, over {}", at, millis(j.took_us), millis(micros(bound.within))));
    }
    for (const auto* p : fresh) {
        if (p->end_us() < 0 || p->end_us() > last_old_end) ++j.new_count;
    }
    if (fresh.empty()) j.problems.push_back(fmt::format("reload at {}: no new child of the target was spawned", at));

    j.last_old_end = last_old_end;
    j.window_end = std::min(last_old_end + settle_us, service_end_us);
    j.judging_requests = true;
    return j;
}

// One request against one reload, in the history's order.
void judge_reload_request(const Facts& f, const RequestRecord& r, ReloadJudgement& j) {
    const auto& bound = *f.scenario.expect.zero_downtime;
    const bool races_fail = f.scenario.expect.idle_close_race == Expectations::RacePolicy::fail;
    if (r.outcome == Outcome::ok && r.sent_us > j.last_old_end) j.served_after = true;
    if (r.sent_us < 0 || r.sent_us > j.window_end || r.done_us < j.t) return;
    // Answered after the shutdown signal: a 503 or a cut then is the shutdown's (judged by its
    // own checks), not the reload's, however late the reload ended (reloads queue on a busy machine).
    if (r.done_us >= j.service_end_us) return;
    bool bad = true;
    if (r.outcome == Outcome::dropped) ++j.dropped;
    else if (r.outcome == Outcome::rejected) ++j.refused;
    else if (r.outcome == Outcome::idle_close_race && races_fail) ++j.races;
    else if (bound.max_latency && r.done_us - r.sent_us > micros(*bound.max_latency)) ++j.slow;
    else bad = false;
    if (bad) j.offending.add(r);
}

// The probes around the reload, and whether the new workers were seen serving.
void finish_reload(const Facts& f, ReloadJudgement& j) {
    if (!j.judging_requests) return;
    const auto t = j.t, window_end = j.window_end, service_end_us = j.service_end_us, last_old_end = j.last_old_end;
    const auto at = seconds(t);
    for (const auto& p : f.run.probes) {
        if (p.sent_us < t || p.sent_us > window_end || p.done_us >= service_end_us || p.kind != ProbeResult::Kind::not_ready) continue;
        if (j.not_ready++ == 0) j.first_not_ready = fmt::format("reload at {}: readiness probe sent at {} answered {}", at, seconds(p.sent_us),
                                                                 p.status > 0 ? fmt::format("{}", p.status) : std::string("connection refused"));
    }
    if (!j.served_after && last_old_end < service_end_us) {
        j.problems.push_back(fmt::format("reload at {}: no request sent after the last old worker ended ({}) completed: nothing shows the new ones serve",
                                         at, seconds(last_old_end)));
    }
}

CheckResult zero_downtime(const Facts& f, std::vector<ReloadJudgement>& judgements);

// Each reload judged from the processes first, then every reload against each request of the one pass.
CheckPass check_zero_downtime(const Facts& f) {
    const auto& bound = f.scenario.expect.zero_downtime;
    if (!bound) return decided(skipped("zero_downtime", "not expected"));
    const auto* g = judged(f);
    std::vector<ReloadJudgement> judgements;
    // The service is judged up to the shutdown signal (after it, refusals are the shutdown's), else the exit.
    const auto service_end = f.signal_us >= 0 ? f.signal_us : f.exit_us >= 0 ? f.exit_us : f.run.duration_us;
    for (const auto& s : f.run.signals) {
        if (s.delivered && s.purpose == SignalPurpose::reload && g && s.generation == g->number) {
            judgements.push_back(judge_reload_processes(f, s, g->pid, service_end));
        }
    }
    return with_state(
        std::move(judgements),
        [&f](std::vector<ReloadJudgement>& all, const RequestRecord& r) {
            for (auto& j : all) {
                if (j.judging_requests) judge_reload_request(f, r, j);
            }
        },
        [&f](std::vector<ReloadJudgement>& all) { return zero_downtime(f, all); });
}

CheckResult zero_downtime(const Facts& f, std::vector<ReloadJudgement>& judgements) {
    const auto& bound = f.scenario.expect.zero_downtime;
    const auto bound_text = fmt::format("per reload: 0 dropped, 0 refused, readiness held, old workers gone < {}{}", millis(micros(bound->within)),
                                        bound->max_latency ? fmt::format(", latency < {}", millis(micros(*bound->max_latency))) : "");
    const auto& reloads = judgements;
    if (reloads.empty()) return make("zero_downtime", bound_text, "no reload", false, "no reload was delivered: nothing was shown");
    std::vector<std::string> problems;
    Matches offending;
    std::uint64_t dropped = 0, refused = 0, races = 0, slow = 0, not_ready = 0;
    std::int64_t slowest = 0;
    std::size_t old_count = 0, new_count = 0;
    for (auto& j : judgements) {
        finish_reload(f, j);
        problems.insert(problems.end(), j.problems.begin(), j.problems.end());
        if (!j.first_not_ready.empty()) problems.push_back(j.first_not_ready);
        offending.append(j.offending);
        dropped += j.dropped;
        refused += j.refused;
        races += j.races;
        slow += j.slow;
        not_ready += j.not_ready;
        slowest = std::max(slowest, j.took_us);
        old_count = j.old_count;
        new_count = j.new_count;
    }
    const auto measured = fmt::format("{} reload{}: {} dropped, {} refused{}{}, readiness {}; {}→{} workers; slowest {}", reloads.size(),
                                      reloads.size() == 1 ? "" : "s", dropped, refused, races ? fmt::format(", {} idle_close_race", races) : "",
                                      slow ? fmt::format(", {} slow", slow) : "", not_ready ? fmt::format("failed {} times", not_ready) : "held",
                                      old_count, new_count, millis(slowest));
    const bool ok = problems.empty() && offending.empty();
    std::string message = !problems.empty() ? problems.front()
                                            : fmt::format("requests failed across a reload: {} dropped, {} refused, {} idle_close_race, {} slow",
                                                          dropped, refused, races, slow);
    auto c = make("zero_downtime", bound_text, measured, ok, std::move(message));
    c.numbers = offending_count(problems.size() + offending.size(), "failures");  // failed requests and broken promises
    if (ok) return c;
    for (std::size_t i = 0; i < problems.size() && i < evidence_limit; ++i) c.evidence.push_back(problems[i]);
    add_evidence(c, offending, f);
    c.evidence.push_back(fmt::format("judged from: births by /proc start time (10 ms ticks), ends {}; requests and probes by their own send and "
                                     "receive times",
                                     f.run.process_events.starts_with("kernel") ? "as the kernel stamped them"
                                                                                : "between two /proc scans 50 ms apart (counted at the later one, so a window only grows)"));
    return c;
}

// ---- workers_drained

struct WorkerEnd {
    bool exited = false;
    int code = 0;    // when exited
    int signal = 0;  // when killed by a signal
    bool understood = false;
};

// "exit 0", "killed by SIGKILL", "killed by signal 9" (lastcall-server's words for a worker's end).
WorkerEnd parse_worker_exit(std::string_view text) {
    WorkerEnd end;
    const auto number = [](std::string_view digits, int& out) {
        const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
        return ec == std::errc{} && p == digits.data() + digits.size();
    };
    if (text.starts_with("exit ")) {
        end.exited = true;
        end.understood = number(text.substr(5), end.code);
    } else if (text.starts_with("killed by signal ")) {
        end.understood = number(text.substr(17), end.signal);
    } else if (text.starts_with("killed by ")) {
        const auto signal = parse_signal(text.substr(10));
        end.understood = signal.has_value();
        end.signal = signal.value_or(0);
    }
    return end;
}

// One ended child, as far as anyone told how.
struct Ending {
    std::int64_t pid = 0;
    std::string who;      // "worker 1.2 (pid 4242)", "pid 4242 (cmd)"
    std::string context;  // "while stopping at 2031.0ms of the master's life", "at 2.031s"
    std::string status;   // "exit 0", "killed by SIGKILL"
    WorkerEnd end;
};

// Ends the scenario caused: a signal lastcall sent to that pid, a SIGKILL to the whole target
// (and what died after it), and everything after lastcall ended the generation itself.
struct LastcallEnds {
    const Facts& f;
    std::int64_t from_us = -1;  // every end from here on is lastcall's
    bool caused(std::int64_t pid, std::int64_t end_us) const {
        return signalled_by_lastcall(f, pid) || (from_us >= 0 && end_us >= from_us);
    }
};

LastcallEnds lastcall_ends(const Facts& f, const GenerationSummary* g) {
    LastcallEnds l{f};
    for (const auto& s : f.run.signals) {
        const bool whole = s.target == SignalTarget::main || s.target == SignalTarget::group;
        if (s.delivered && s.signal == SIGKILL && whole && g && s.generation == g->number) {
            l.from_us = l.from_us < 0 ? s.t_us : std::min(l.from_us, s.t_us);
        }
    }
    if (g && g->killed_by_lastcall && g->exit_us >= 0) l.from_us = l.from_us < 0 ? g->exit_us : std::min(l.from_us, g->exit_us);
    return l;
}

// The kernel's statuses, when it gave one for every ended child of the main process.
std::optional<std::vector<Ending>> kernel_endings(const Facts& f, const GenerationSummary& g, const LastcallEnds& lastcall, std::int64_t& by_lastcall) {
    std::vector<Ending> out;
    std::int64_t mine = 0;
    for (const auto* p : children_of(f, g.pid)) {
        if (p->end_us() < 0) continue;
        if (lastcall.caused(p->pid, p->end_us())) {
            ++mine;
            continue;
        }
        if (!p->exit) return std::nullopt;
        WorkerEnd end{p->exit->exited, p->exit->code, p->exit->signal, true};
        out.push_back(Ending{p->pid, describe(*p), fmt::format("at {}", seconds(p->exit_us)), p->exit->describe(), end});
    }
    if (out.empty() && mine == 0) return std::nullopt;  // nothing told: let the report speak
    by_lastcall = mine;
    return out;
}

// The report's times are the master's own, so only lastcall's signals to a pid tell its ends apart
// (a target lastcall SIGKILLed wrote no report).
std::vector<Ending> report_endings(const Facts& f, std::int64_t& by_lastcall) {
    std::vector<Ending> out;
    for (const auto& w : *f.report->workers) {
        if (w.exit.empty()) continue;  // still serving when the report was written
        if (signalled_by_lastcall(f, w.pid)) {
            ++by_lastcall;  // the scenario's doing, not the target's
            continue;
        }
        out.push_back(Ending{w.pid, fmt::format("worker {} (pid {})", w.id, w.pid),
                             fmt::format("while {}{}", w.ended_while.empty() ? "?" : w.ended_while,
                                         w.ended_ms ? fmt::format(" at {:.1f}ms of the master's life", *w.ended_ms) : ""),
                             w.exit, parse_worker_exit(w.exit)});
    }
    return out;
}

CheckResult check_workers_drained(const Facts& f) {
    const auto& bound = f.scenario.expect.workers_drained;
    if (!bound) return skipped("workers_drained", "not expected");
    std::string codes;
    for (const auto code : bound->exit) codes += fmt::format("{}{}", codes.empty() ? "" : ", ", code);
    const auto bound_text = fmt::format("exit [{}]; killed {}, crashed {}", codes, bound->killed, bound->crashed);
    const auto* g = judged(f);
    const auto lastcall = lastcall_ends(f, g);
    std::int64_t by_lastcall = 0;
    std::optional<std::vector<Ending>> endings = g ? kernel_endings(f, *g, lastcall, by_lastcall) : std::nullopt;
    std::string source = "the kernel (netlink process connector)";
    if (!endings && f.report && f.report->workers) {
        endings = report_endings(f, by_lastcall);
        source = "the target's report (workers[].exit); lastcall is not the workers' parent";
    }
    if (!endings) {
        std::size_t ended = 0, unknown = 0;
        if (g) {
            for (const auto* p : children_of(f, g->pid)) {
                if (p->end_us() < 0 || lastcall.caused(p->pid, p->end_us())) continue;
                ++ended;
                if (!p->exit) ++unknown;
            }
        }
        return skipped("workers_drained", fmt::format("{} of {} endings unknown: lastcall is not the workers' parent, the kernel did not say ({}) "
                                                      "and the target wrote no report with workers[]",
                                                      unknown, ended, f.run.process_events.empty() ? "no process events" : f.run.process_events));
    }
    std::int64_t drained = 0, killed = 0, crashed = 0;
    std::vector<std::string> offending;
    for (const auto& e : *endings) {
        const bool listed = e.end.understood && e.end.exited && std::find(bound->exit.begin(), bound->exit.end(), e.end.code) != bound->exit.end();
        if (listed) {
            ++drained;
            continue;
        }
        if (e.end.understood && !e.end.exited && e.end.signal == SIGKILL) ++killed;
        else ++crashed;
        offending.push_back(fmt::format("{}: {} {}", e.who, e.status, e.context));
    }
    const auto ended = drained + killed + crashed;
    const auto measured = fmt::format("{} ended: {} drained, {} killed, {} crashed{}", ended, drained, killed, crashed,
                                      by_lastcall ? fmt::format(" ({} more ended by lastcall's signals)", by_lastcall) : "");
    const bool ok = killed == bound->killed && crashed == bound->crashed;
    auto c = make("workers_drained", bound_text, measured, ok,
                  fmt::format("{} killed and {} crashed, where {} and {} were expected", killed, crashed, bound->killed, bound->crashed));
    for (std::size_t i = 0; i < offending.size() && i < evidence_limit; ++i) c.evidence.push_back(offending[i]);
    if (offending.size() > evidence_limit) c.evidence.push_back(fmt::format("... and {} more", offending.size() - evidence_limit));
    if (f.report && !f.report->stragglers.empty() && !ok) {
        std::string names;
        for (const auto& s : f.report->stragglers) names += (names.empty() ? "" : ", ") + s;
        c.evidence.push_back("stragglers the target named: " + names);
    }
    if (!ok) c.evidence.push_back("judged from: " + source);
    return c;
}

} // namespace

std::vector<CheckPass> worker_checks(const Facts& f) { return {check_zero_downtime(f), decided(check_workers_drained(f))}; }

} // namespace lastcall::harness::checks

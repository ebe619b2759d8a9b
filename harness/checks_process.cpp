// Checks over the target as a process: signals, readiness, timing, exit, what it left behind.
#include "check_facts.hpp"

#include "signals.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace lastcall::harness::checks {

namespace {

CheckResult check_signals_delivered(const Facts& f) {
    std::vector<const SignalSent*> lost;
    std::size_t after_exit = 0;
    for (const auto& s : f.run.signals) {
        if (s.target_gone) ++after_exit;
        else if (!s.delivered) lost.push_back(&s);
    }
    const auto measured = fmt::format("{} of {} delivered{}", f.run.signals.size() - lost.size() - after_exit, f.run.signals.size(),
                                      after_exit ? fmt::format(", {} after the target had exited", after_exit) : "");
    // A signal that never arrived means the scenario did not happen: the run proves nothing.
    auto c = make("signals_delivered", "every signal delivered", measured, lost.empty(),
                  "a signal of the timeline could not be delivered; the run was ended there");
    c.numbers = offending_count(lost.size(), "signals");
    for (const auto* s : lost) {
        if (c.evidence.size() < evidence_limit) {
            c.evidence.push_back(fmt::format("{} at {} to {}: not delivered ({})", signal_name(s->signal), seconds(s->t_us), s->to, s->why));
        }
    }
    return c;
}

CheckResult check_readiness_flip(const Facts& f) {
    const auto& bound = f.scenario.expect.readiness_flip;
    if (!bound) return skipped("readiness_flip", "not expected");
    if (f.scenario.target.ready.http_path.empty()) return skipped("readiness_flip", "target.ready has no http path");
    if (f.signal_us < 0) return skipped("readiness_flip", "no signal");
    // The clock starts when the target handled the signal (its report says when; else the
    // delivery): a target starved of CPU for 200 ms cannot flip before it runs. The only evidence
    // of "still ready" is a probe that left after the bound and was answered with a pass. An
    // unanswered probe says nothing either way, and the exit ends readiness as surely as a 503.
    const auto from = f.noticed_us;
    const auto limit = from + micros(*bound);
    const ProbeResult* still_ready = nullptr;
    const ProbeResult* first_fail = nullptr;
    const ProbeResult* before_signal = nullptr;
    // The flip is the first not-ready answer that came back after the signal, whenever its probe
    // left: a probe sent just before the signal and answered 503 1.35 ms after it is the flip
    // events.jsonl shows (its readiness events are dated by the answers). Taking the first probe
    // sent after the signal said "9.9ms (status -1)" instead, the next probe's refused connection,
    // and called the 503 "already failing before the signal".
    for (const auto& p : f.run.probes) {
        if (f.exit_us >= 0 && p.sent_us >= f.exit_us) break;  // a later generation's
        if (p.done_us < f.signal_us) {
            before_signal = &p;
            continue;
        }
        if (p.kind == ProbeResult::Kind::ready && p.sent_us >= limit && !still_ready) still_ready = &p;
        if (p.kind == ProbeResult::Kind::not_ready && !first_fail) first_fail = &p;
    }
    std::string measured;
    std::optional<double> flip_ms;
    if (first_fail && (f.exit_us < 0 || first_fail->done_us <= f.exit_us)) {
        // Never before the clock's start: a target that reports handling the signal late may
        // have answered 503 before it says it did.
        const auto took = std::max<std::int64_t>(0, first_fail->done_us - from);
        // A status of -1 was no HTTP answer: the connection was refused (nothing listened any more).
        const auto answer = first_fail->status > 0 ? fmt::format("answered {}", first_fail->status)
                                                   : std::string("connection refused: nothing listened on the port any more");
        const auto sent = first_fail->sent_us < f.signal_us ? fmt::format(", to a probe sent {} before the signal", millis(f.signal_us - first_fail->sent_us))
                                                            : std::string();
        measured = fmt::format("{} (the first not-ready answer, events.jsonl readiness at t_us {}: {}{})", millis(took), first_fail->done_us,
                               answer, sent);
        flip_ms = as_ms(took);
    } else if (f.exit_us >= 0) {
        measured = fmt::format("{} (the exit)", millis(f.exit_us - from));
        flip_ms = as_ms(f.exit_us - from);
    } else {
        measured = "no failing probe";
    }
    if (f.noticed_from_report && from > f.delivered_us) measured += fmt::format("; from the target's handling of the signal, {} after delivery", millis(from - f.delivered_us));
    if (before_signal && before_signal->kind != ProbeResult::Kind::ready) measured += "; the probe was already failing before the signal (its last answer before it)";
    auto c = make("readiness_flip", fmt::format("< {}", millis(micros(*bound))), measured, still_ready == nullptr,
                  "the readiness probe still passed after the bound");
    // The value is when the first failing answer came back; the verdict rests on when probes left
    // (a probe sent after the bound and answered ready), so a late answer alone fails nothing.
    c.numbers = CheckNumbers{flip_ms, as_ms(micros(*bound)), std::nullopt, "ms", "<"};
    if (still_ready) {
        c.at_us = still_ready->sent_us;  // the probe that proves it
        c.evidence.push_back(fmt::format("a probe sent {} after the signal {} was answered {} at {}", millis(still_ready->sent_us - from),
                                         f.noticed_from_report ? "(as the target's report dates it)" : "(its delivery)", still_ready->status,
                                         seconds(still_ready->done_us)));
    }
    return c;
}

CheckResult check_shutdown_time(const Facts& f) {
    if (f.signal_us < 0 || f.exit_us < 0) return skipped("shutdown_time", "no signal or no exit");
    const auto took = f.exit_us - f.signal_us;
    const auto& bound = f.scenario.expect.shutdown_time;
    if (!bound) return with_numbers(make("shutdown_time", std::string(measured_only_bound), millis(took), true), CheckNumbers{as_ms(took), std::nullopt, std::nullopt, "ms", ""});
    auto c = with_numbers(make("shutdown_time", fmt::format("< {}", millis(micros(*bound))), millis(took), took < micros(*bound),
                               fmt::format("shutdown took {}", millis(took))),
                          CheckNumbers{as_ms(took), as_ms(micros(*bound)), std::nullopt, "ms", "<"});
    c.at_us = f.signal_us + micros(*bound);  // where the bound ran out
    return c;
}

const GenerationSummary* judged_generation(const Facts& f) {
    const auto index = static_cast<std::size_t>(f.run.judged_generation - 1);
    return index < f.run.generations.size() ? &f.run.generations[index] : nullptr;
}

// How long the target waited on the disk inside [from_us, to_us], as the kernel showed it: pairs of
// consecutive /proc samples that both caught a thread in state D, each counting the time between
// them, at most two sampling periods (a starved sampler must not stretch a stall). One sample alone
// counts nothing: a thread caught in one short fsync is no stall.
std::int64_t disk_wait_us(const std::vector<ProcSample>& samples, std::int64_t from_us, std::int64_t to_us) {
    constexpr std::int64_t max_gap_us = 100'000;
    std::int64_t waited = 0;
    const ProcSample* previous = nullptr;
    for (const auto& s : samples) {
        if (s.t_us < from_us || s.t_us > to_us) continue;
        if (previous && previous->disk_waiting > 0 && s.disk_waiting > 0) waited += std::min(s.t_us - previous->t_us, max_gap_us);
        previous = &s;
    }
    return waited;
}

// What the target did after its last response is its own time, except where it waited on a disk
// that stalled: two noise-soak runs of a correct server spent 4.6 and 6.5 s in a checkpoint's
// fsync of 84 bytes. That wait is the machine's, and the kernel (not the target's report) says so.
CheckResult drain_tail(const Facts& f, std::int64_t last);

CheckPass check_drain_tail(const Facts& f) {
    const auto* g = judged_generation(f);
    if (f.exit_us < 0 || f.run.killed_by_scenario || (g && g->killed_by_lastcall)) return decided(skipped("drain_tail", "no exit of its own"));
    return with_state(
        std::int64_t{-1},  // the last response before the exit
        [&f](std::int64_t& last, const RequestRecord& r) {
            if (r.status != 0 && r.done_us <= f.exit_us) last = std::max(last, r.done_us);
        },
        [&f](std::int64_t last) { return drain_tail(f, last); });
}

CheckResult drain_tail(const Facts& f, std::int64_t last) {
    if (last < 0) return skipped("drain_tail", f.nothing_recorded("no response before exit"));
    // With nothing in flight at the signal, the tail starts at the signal.
    const auto tail_start = std::max(last, f.signal_us);
    const auto tail = f.exit_us - tail_start;
    const auto on_disk = disk_wait_us(f.run.samples, tail_start, f.exit_us);
    const auto own = tail - on_disk;
    const auto bound = micros(f.scenario.expect.drain_tail);
    if (on_disk == 0) {
        return with_numbers(make("drain_tail", fmt::format("< {}", millis(bound)), millis(tail), tail < bound,
                                 fmt::format("the target lingered {} after its last response", millis(tail))),
                            CheckNumbers{as_ms(tail), as_ms(bound), std::nullopt, "ms", "<"});
    }
    auto c = make("drain_tail", fmt::format("< {}", millis(bound)), fmt::format("{} of its own", millis(own)), own < bound,
                  fmt::format("the target lingered {} after its last response, {} of it waiting on the disk: {} of its own",
                              millis(tail), millis(on_disk), millis(own)));
    c.numbers = CheckNumbers{as_ms(own), as_ms(bound), std::nullopt, "ms", "<"};
    c.evidence.push_back(fmt::format("{} of the {} after the last response waiting on the disk (threads in state D in "
                                     "/proc/PID/task/*/stat, sampled every 50 ms); not counted",
                                     millis(on_disk), millis(tail)));
    return c;
}

// A code N from 129 also takes a death by signal N - 128: that is how a shell shows it (143).
bool exit_matches(const Expectations::Exit& want, const TargetExit& got) {
    if (want.by_signal) return !got.exited && got.signal == want.value;
    if (got.exited) return got.code == want.value;
    return want.value > 128 && got.signal == want.value - 128;
}

CheckResult check_exit(const Facts& f) {
    const auto& wants = f.scenario.expect.exit;
    std::string wanted;
    for (const auto& want : wants) {
        wanted += fmt::format("{}{}", wanted.empty() ? "" : " or ", want.by_signal ? signal_name(want.value) : fmt::format("exit {}", want.value));
    }
    if (!f.run.exit) return make("exit", wanted, "did not exit", false, "the target never exited");
    const auto& got = *f.run.exit;
    const bool ok = std::any_of(wants.begin(), wants.end(), [&](const Expectations::Exit& want) { return exit_matches(want, got); });
    auto c = make("exit", wanted, got.describe(), ok, fmt::format("expected {}, saw {}", wanted, got.describe()));
    c.at_us = f.exit_us;
    // As a shell shows it (a death by signal N is 128 + N); a bound only where one status is expected.
    const auto shell_code = [](bool by_signal, int value) { return static_cast<double>(by_signal ? 128 + value : value); };
    c.numbers = CheckNumbers{shell_code(!got.exited, got.exited ? got.code : got.signal),
                             wants.size() == 1 ? std::optional<double>(shell_code(wants[0].by_signal, wants[0].value)) : std::nullopt, std::nullopt,
                             "exit status", wants.size() == 1 ? "==" : ""};
    const auto* g = judged_generation(f);
    if (!ok && f.run.limit_reached) c.evidence.push_back("the run hit limits.max_duration and lastcall killed the target");
    else if (!ok && g && g->killed_by_lastcall) c.evidence.push_back("the target was still running when the scenario ended; lastcall ended it");
    return c;
}

CheckResult check_orphans(const Facts& f) {
    const auto& orphans = f.run.orphans;
    auto c = make("orphans", fmt::format("<= {}", f.scenario.expect.orphans), std::to_string(orphans.size()),
                  orphans.size() <= f.scenario.expect.orphans, "processes of the target outlived it (killed by lastcall afterwards)");
    c.numbers = CheckNumbers{static_cast<double>(orphans.size()), static_cast<double>(f.scenario.expect.orphans), std::nullopt, "processes", "<="};
    for (std::size_t i = 0; i < orphans.size() && i < evidence_limit; ++i) c.evidence.push_back(orphans[i].describe() + " still running after its generation exited");
    if (orphans.size() > evidence_limit) c.evidence.push_back(fmt::format("... and {} more", orphans.size() - evidence_limit));
    c.evidence.push_back("found by: " + f.run.containment);
    if (c.status == CheckStatus::pass) c.evidence.clear();
    return c;
}

// Our own connections, each from its first send until its last response, or until the run's end
// when that response left it alive (an idle keep-alive connection): the target holds one
// descriptor for each, and they are no leak. Per connection, not per request.
class ClientConnections {
public:
    void add(const RequestRecord& r) {
        if (r.connection_id == 0 || r.sent_us < 0) return;
        // (thread, connection id): connection ids are per thread
        auto [it, fresh] = spans_.try_emplace(((r.id & 0xff) << 32) | r.connection_id, Span{r.sent_us});
        if (fresh) it->second.last_is(r);
        else {
            it->second.from = std::min(it->second.from, r.sent_us);
            if (r.done_us >= it->second.last_done_us) it->second.last_is(r);
        }
    }
    std::int64_t open_at(std::int64_t t) const {
        return std::count_if(spans_.begin(), spans_.end(), [t](const auto& entry) {
            const auto& s = entry.second;
            return s.from <= t && (s.last_kept_alive || s.last_done_us >= t || s.last_closed_after_us >= t);  // open until lastcall saw it close
        });
    }

private:
    struct Span {
        std::int64_t from = 0;
        std::int64_t last_done_us = 0, last_closed_after_us = -1;
        bool last_kept_alive = false;
        void last_is(const RequestRecord& r) {
            last_done_us = r.done_us;
            last_closed_after_us = r.closed_after_us;
            last_kept_alive = (r.outcome == Outcome::ok || r.outcome == Outcome::ended_by_shutdown) && !r.connection_close && !r.closed_after;
        }
    };
    std::unordered_map<std::uint64_t, Span> spans_;
};

CheckResult fd_leak(const Facts& f, const ClientConnections& ours);

CheckPass check_fd_leak(const Facts& f) {
    if (f.run.samples.size() < 2 || f.exit_us < 0) return decided(skipped("fd_leak", "too few /proc samples"));
    return with_state(
        ClientConnections{}, [](ClientConnections& ours, const RequestRecord& r) { ours.add(r); },
        [&f](const ClientConnections& ours) { return fd_leak(f, ours); });
}

CheckResult fd_leak(const Facts& f, const ClientConnections& ours) {
    const auto& samples = f.run.samples;
    const auto& baseline = samples.front();
    const ProcSample* before_exit = &samples.front();
    // A sample of a process already exiting says nothing of what it held: it hid a leak of
    // thousands. The kernel releases a process's memory before its descriptors (do_exit: exit_mm,
    // then exit_files), so no resident memory marks it, while what is left of its descriptors may
    // still be closing (a sample read 0 fds with memory gone, and one a part of them).
    for (const auto& s : samples) {
        const bool exiting = s.rss_kib == 0 && baseline.rss_kib > 0;
        if (s.t_us < f.exit_us && !exiting) before_exit = &s;
    }
    // Our connections the target holds a descriptor of: those lastcall opened, less those the
    // kernel still held in the target's accept queue at the sample. At the start many are opened at
    // once and the first sample often comes before the target accepted them: counted as held, they
    // made a baseline of 15 fds "minus 62 connections", and a correct server a leak of +59.
    const auto held = [&ours](const ProcSample& s) {
        return std::max<std::int64_t>(0, ours.open_at(s.t_us) - std::max(0, s.accept_queue));
    };
    const auto ours_then = held(baseline);
    const auto ours_now = held(*before_exit);
    const auto allowance = f.scenario.expect.fd_leak.value_or(16);  // sockets mid-close, log files rotating...
    const auto grew = (static_cast<std::int64_t>(before_exit->fds) - ours_now) - (baseline.fds - ours_then);
    // Fewer than at the start is common and no leak: a draining server closes its listener (and
    // sockets it held for its own use) before it exits. Said in words, not as "-2".
    const auto measured = grew > 0 ? fmt::format("+{}", grew) : grew == 0 ? std::string("0") : fmt::format("0 ({} fewer than at the start)", -grew);
    auto c = make("fd_leak", fmt::format("<= {}", allowance), measured, grew <= allowance,
                  fmt::format("open descriptors grew by {} beyond the connections still open", grew));
    c.numbers = CheckNumbers{static_cast<double>(grew), static_cast<double>(allowance), std::nullopt, "fds", "<="};
    c.evidence.push_back(fmt::format("{} fds with {} of our connections at {} (baseline); {} fds with {} at {} (last sample before exit)",
                                     baseline.fds, ours_then, seconds(baseline.t_us), before_exit->fds, ours_now, seconds(before_exit->t_us)));
    const auto queued = [](const ProcSample& s) { return s.accept_queue < 0 ? std::string("not asked") : std::to_string(s.accept_queue); };
    c.evidence.push_back(fmt::format("our connections are those lastcall had open less those still in the target's accept queue (the "
                                     "kernel's count, sock_diag: {} at the baseline, {} before exit), which the target held no descriptor of",
                                     queued(baseline), queued(*before_exit)));
    // lastcall's own readiness probes are connections too when they are HTTP ones the target
    // answered with a close (a TCP readiness watch makes none): said, so growth near their count
    // reads as the target not closing connections its peers closed, a real leak.
    const auto probes = std::count_if(f.run.probes.begin(), f.run.probes.end(), [&](const ProbeResult& p) {
        return p.connected && p.sent_us >= baseline.t_us && p.sent_us < before_exit->t_us;
    });
    if (probes > 0) {
        c.evidence.push_back(fmt::format("lastcall's readiness probes made {} connections between those samples, each closed by lastcall when "
                                         "the target's answer said Connection: close or the target closed it",
                                         probes));
    }
    if (c.status == CheckStatus::pass) c.evidence.clear();
    return c;
}

} // namespace

std::vector<CheckPass> process_checks(const Facts& f) {
    return {
        decided(check_signals_delivered(f)),
        decided(check_readiness_flip(f)),
        decided(check_shutdown_time(f)),
        check_drain_tail(f),
        decided(check_exit(f)),
        decided(check_orphans(f)),
        decided(make("port_released", "released", f.run.port_released ? "released" : "still bound", f.run.port_released || !f.scenario.expect.port_released,
                     fmt::format("port {} could not be bound after the target exited", f.run.port))),
        check_fd_leak(f),
    };
}

} // namespace lastcall::harness::checks

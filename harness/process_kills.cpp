#include "process_kills.hpp"

#include <algorithm>
#include <csignal>

namespace lastcall::harness {

namespace {

// When the last of the processes `kill` went to ended (as lastcall saw it), else when kill() returned.
std::int64_t sockets_closed_by(const SignalSent& kill, const std::vector<ProcessLife>& lives) {
    auto closed = std::max(kill.t_us, kill.returned_us);
    for (const pid_t pid : kill.pids) {
        for (const auto& life : lives) {
            // The pid's life that the kill ended: born before it (a pid is reused only after).
            if (life.pid == pid && life.spawn_us <= kill.t_us && life.end_us() >= kill.t_us) closed = std::max(closed, life.end_us());
        }
    }
    return closed;
}

} // namespace

std::vector<KillCut> kill_cuts(const std::vector<SignalSent>& signals, const std::vector<ProcessLife>& lives) {
    std::vector<KillCut> cuts;
    for (const auto& s : signals) {
        const bool one_process = s.target == SignalTarget::child || s.target == SignalTarget::worker || s.target == SignalTarget::workers;
        if (!s.delivered || s.signal != SIGKILL || !one_process) continue;
        cuts.push_back(KillCut{s.t_us, sockets_closed_by(s, lives) + race_window_us});
    }
    return cuts;
}

bool mark_cut_by_process_kills(RequestRecord& r, const std::vector<KillCut>& cuts) {
    const bool failed = r.outcome == Outcome::dropped || r.outcome == Outcome::idle_close_race;
    if (!failed || r.sent_us < 0) return false;
    for (const auto& cut : cuts) {
        if (r.sent_us <= cut.until_us && r.done_us >= cut.from_us) {
            r.outcome = Outcome::unknown;
            return true;
        }
    }
    return false;
}

std::size_t mark_cut_by_process_kills(std::vector<RequestRecord>& history, const std::vector<SignalSent>& signals,
                                      const std::vector<ProcessLife>& lives) {
    const auto cuts = kill_cuts(signals, lives);
    std::size_t marked = 0;
    for (auto& r : history) marked += mark_cut_by_process_kills(r, cuts) ? 1 : 0;
    return marked;
}

} // namespace lastcall::harness

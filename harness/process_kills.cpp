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

std::size_t mark_cut_by_process_kills(std::vector<RequestRecord>& history, const std::vector<SignalSent>& signals,
                                      const std::vector<ProcessLife>& lives) {
    std::size_t marked = 0;
    for (const auto& s : signals) {
        const bool one_process = s.target == SignalTarget::child || s.target == SignalTarget::worker || s.target == SignalTarget::workers;
        if (!s.delivered || s.signal != SIGKILL || !one_process) continue;
        const auto until = sockets_closed_by(s, lives) + race_window_us;
        for (auto& r : history) {
            const bool failed = r.outcome == Outcome::dropped || r.outcome == Outcome::idle_close_race;
            if (failed && r.sent_us >= 0 && r.sent_us <= until && r.done_us >= s.t_us) {
                r.outcome = Outcome::unknown;
                ++marked;
            }
        }
    }
    return marked;
}

} // namespace lastcall::harness

#include "process_kills.hpp"

#include <algorithm>
#include <csignal>

namespace lastcall::harness {

bool mark_cut_by_process_kills(RequestRecord& r, const std::vector<SignalSent>& signals) {
    for (const auto& s : signals) {
        const bool one_process = s.target == SignalTarget::child || s.target == SignalTarget::worker || s.target == SignalTarget::workers;
        if (!s.delivered || s.signal != SIGKILL || !one_process) continue;
        const auto until = std::max(s.t_us, s.returned_us) + race_window_us;
        const bool failed = r.outcome == Outcome::dropped || r.outcome == Outcome::idle_close_race;
        if (failed && r.sent_us >= 0 && r.sent_us <= until && r.done_us >= s.t_us) {
            r.outcome = Outcome::unknown;
            return true;  // unknown now: no later kill marks it again
        }
    }
    return false;
}

std::size_t mark_cut_by_process_kills(std::vector<RequestRecord>& history, const std::vector<SignalSent>& signals) {
    std::size_t marked = 0;
    for (auto& r : history) marked += mark_cut_by_process_kills(r, signals) ? 1 : 0;
    return marked;
}

} // namespace lastcall::harness

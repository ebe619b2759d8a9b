#include "process_kills.hpp"

#include <algorithm>
#include <csignal>

namespace lastcall::harness {

std::size_t mark_cut_by_process_kills(std::vector<RequestRecord>& history, const std::vector<SignalSent>& signals) {
    std::size_t marked = 0;
    for (const auto& s : signals) {
        const bool one_process = s.target == SignalTarget::child || s.target == SignalTarget::worker || s.target == SignalTarget::workers;
        if (!s.delivered || s.signal != SIGKILL || !one_process) continue;
        const auto until = std::max(s.t_us, s.returned_us) + race_window_us;
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

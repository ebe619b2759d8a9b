#pragma once
// A SIGKILL lastcall itself sends to one process of the target (`to: "worker 1"`, `workers`,
// `child N`) cuts what that process was serving: like a SIGKILL of the whole target, that is the
// scenario's doing, not the server's, so those requests are `unknown`, never `dropped`.
#include "history.hpp"
#include "process_life.hpp"
#include "run_result.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lastcall::harness {

// What one such kill may have cut: requests that ended after `from_us` and were sent by `until_us`.
struct KillCut {
    std::int64_t from_us = 0;   // the kill was sent
    std::int64_t until_us = 0;  // the killed process's sockets closed, plus race_window_us
};

// The kernel closes a killed process's sockets only once it runs to die: from kill() to its end
// (`lives`, as exactly as lastcall saw it) took 2-8 ms here, and 72 ms once under load, so that end
// counts, not kill()'s return; race_window_us after it, as a request can cross the close on the
// wire. A delivered SIGKILL to a worker, workers or a child only.
std::vector<KillCut> kill_cuts(const std::vector<SignalSent>& signals, const std::vector<ProcessLife>& lives);

// A request that failed on the wire (dropped, idle_close_race) inside a cut becomes `unknown`.
// Which of its connections the killed process held is not known to lastcall, so every such request
// counts. True when it was marked (as a streamed history is read).
bool mark_cut_by_process_kills(RequestRecord& record, const std::vector<KillCut>& cuts);

// The same over a whole history: how many were marked.
std::size_t mark_cut_by_process_kills(std::vector<RequestRecord>& history, const std::vector<SignalSent>& signals,
                                      const std::vector<ProcessLife>& lives);

} // namespace lastcall::harness

#pragma once
// A SIGKILL lastcall itself sends to one process of the target (`to: "worker 1"`, `workers`,
// `child N`) cuts what that process was serving: like a SIGKILL of the whole target, that is the
// scenario's doing, not the server's, so those requests are `unknown`, never `dropped`.
#include "history.hpp"
#include "process_life.hpp"
#include "run_result.hpp"

#include <cstddef>
#include <vector>

namespace lastcall::harness {

// Requests that failed on the wire (dropped, idle_close_race), were sent before the killed
// process's sockets closed plus race_window_us (a request can cross the close on the wire) and
// ended after the kill was sent, become `unknown`. The kernel closes a killed process's sockets
// only once it runs to die: from kill() to its end (`lives`, as exactly as lastcall saw it) took
// 2-8 ms here, and 72 ms once under load, so the end is what counts, not kill()'s return. Which of
// its connections the killed process held is not known to lastcall, so every such request counts.
// Returns how many were marked.
std::size_t mark_cut_by_process_kills(std::vector<RequestRecord>& history, const std::vector<SignalSent>& signals,
                                      const std::vector<ProcessLife>& lives);

} // namespace lastcall::harness

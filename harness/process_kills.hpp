#pragma once
// A SIGKILL lastcall itself sends to one process of the target (`to: "worker 1"`, `workers`,
// `child N`) cuts what that process was serving: like a SIGKILL of the whole target, that is the
// scenario's doing, not the server's, so those requests are `unknown`, never `dropped`.
#include "history.hpp"
#include "run_result.hpp"

#include <cstddef>
#include <vector>

namespace lastcall::harness {

// Requests that failed on the wire (dropped, idle_close_race), were sent before kill() returned
// plus race_window_us (a request can cross the kill on the wire, and the kernel closes a killed
// process's sockets only once it runs to die) and ended after the kill was sent, become
// `unknown`. Which of its connections the killed process held is not known to lastcall, so every
// such request counts. Returns how many were marked.
std::size_t mark_cut_by_process_kills(std::vector<RequestRecord>& history, const std::vector<SignalSent>& signals);
// The same for one record (as a streamed history is read): true when it was marked.
bool mark_cut_by_process_kills(RequestRecord& record, const std::vector<SignalSent>& signals);

} // namespace lastcall::harness

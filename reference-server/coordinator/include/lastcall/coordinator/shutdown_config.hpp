#pragma once
#include "lastcall/coordinator/clock.hpp"

#include <csignal>
#include <filesystem>
#include <vector>

namespace lastcall::coordinator {

using namespace std::chrono_literals;

// Every wait is bounded twice: by its own budget and by what is left of `global`.
struct Budgets {
    Duration global = 30s;
    Duration drain_delay = 0s;        // keep accepting while readiness already fails (LB endpoint race)
    Duration drain = 20s;             // in-flight requests and streams finish
    Duration stream_grace = 500ms;    // after draining starts, streams get their `end` event
    Duration tasks = 5s;              // background tasks finish on their own
    Duration task_cancel_grace = 1s;  // cancelled tasks wind down; the rest are abandoned
    Duration cleanup = 5s;            // all resources together; each also has its own timeout
    // A connection that promised keep-alive (or is fresh) when draining starts is held this long
    // for a request already on its way, which gets 503 + Connection: close instead of a reset; the
    // listener lingers as long for handshakes already under way. Not a wait on its own: it only
    // keeps draining open while something may still arrive.
    Duration close_linger = 200ms;
};

// Which signal asks for which shutdown is configuration: nginx treats QUIT as graceful, gunicorn TERM.
struct SignalPolicy {
    std::vector<int> graceful{SIGTERM, SIGINT};
    std::vector<int> fast{SIGQUIT};
};

struct ShutdownConfig {
    Budgets budgets;
    SignalPolicy signals;
    std::filesystem::path report_path;  // empty: no report file
};

} // namespace lastcall::coordinator

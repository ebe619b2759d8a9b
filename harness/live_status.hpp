#pragma once
// What a run shows while it runs (the CLI's live view draws it): the phase the target is in, the
// run's clock, the requests so far. The conductor reports it about four times a second and at
// every change of phase; the view keeps its own clock between reports, so a phase that blocks
// the conductor (a target starting, a restart) still shows time passing.
#include "load_generator.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace lastcall::harness {

enum class RunPhase {
    starting,     // the target is spawned, not yet ready
    ready,        // ready, load running, no shutdown signal yet
    signal_sent,  // a shutdown signal delivered, the target still running (and still ready, or no HTTP readiness)
    draining,     // ... and its readiness endpoint says not ready: it is draining
    exited,       // the target exited (a restart may follow)
    restarting,   // waiting for the port, starting the next generation
    finishing,    // load stopped: reading back, stopping what is left, writing the run directory
};

std::string_view to_string(RunPhase phase);

struct LiveStatus {
    RunPhase phase = RunPhase::starting;
    std::int64_t elapsed_us = 0;       // since the load started; 0 while the first generation starts
    std::int64_t max_duration_us = 0;  // limits.max_duration: the run ends there at the latest
    int generation = 1;
    std::string detail;                // what the phase is about: "SIGTERM at 1.00s", "exit 0 at 2.31s"
    std::int64_t event_us = -1;        // when what `detail` names happened (the signal, the exit); -1: nothing
    LiveCounts counts;                 // each request as the load thread classified it when it ended
    // Once a shutdown signal or a SIGKILL went out, the verdict may reclassify what the counts hold:
    // a refusal of a connect held across the signal is `dropped`, a failure a process kill cut is
    // `unknown` (both judged when the history is sorted: scenario_run.cpp record_history()). The
    // line then says its failure counts are provisional; run.json and the reports hold the verdict's.
    bool provisional = false;
};

} // namespace lastcall::harness

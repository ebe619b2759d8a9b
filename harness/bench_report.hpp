#pragma once
// How a `lastcall bench` run is told: wrk's layout (Thread Stats, --latency distribution,
// Requests/sec, Transfer/sec) with what wrk leaves out said plainly (failures by kind, the
// latency's origin, the open loop's connections and skipped arrivals, an interruption), or JSON
// (fields in harness/README.md).
#include "bench_options.hpp"
#include "bench_summary.hpp"
#include "load_generator.hpp"

#include <string>

namespace lastcall::harness {

// The JSON's `version`: raised when a field changes meaning or goes away.
inline constexpr int bench_json_version = 1;

struct BenchRun {
    BenchSummary summary;
    double elapsed_s = 0;
    int interrupted_by = 0;               // the signal that stopped the run early; 0: it ran its duration
    std::string stopped_early;            // why lastcall stopped it before -d (bench_guard.hpp early_stop); empty: it did not
    bool stopped_for_own_limit = false;   // ... for lastcall's own reason (out of descriptors), not the target's doing
    std::uint64_t skipped_arrivals = 0;   // open loop
    std::uint64_t arrivals_never_started = 0;  // open loop: due by the end and never started, whatever the reason (arrivals_never_started())
    std::size_t connections_used = 0;     // open loop: the most it needed at once
    int connection_limit = 0;             // open loop: -c, or 0 for lastcall's own bound
    HistoryStats history;                 // what the disk kept of the per-request history
    int exit_code = 0;
};

// Open loop: the arrivals the schedule had due by the end that were never started. Within one per
// thread or 1 % of those due, 0: the schedule's edge at the stop.
std::uint64_t arrivals_never_started(double rate, double elapsed_s, int threads, const BenchSummary& summary, std::uint64_t skipped_arrivals);

// Nothing served and every failure a refused connect: a dead port, the target's doing.
bool every_connect_refused(const BenchSummary& summary);

// Of the arrivals never started, those lastcall is to blame for: it fell behind its schedule (its
// CPU, not the server: a late arrival waits its turn, and a run far behind delivered a fraction of
// the rate asked). None when the run had another reason, said once by itself: it stopped for
// lastcall's own limit (out of descriptors), or every connect was refused (the text's `Behind
// schedule` and the JSON's `arrivals_behind` are this one figure).
std::uint64_t arrivals_behind(const BenchRun& run);

// 130 or 143 when interrupted; else 3 when nothing completed, 1 when anything failed or was
// answered neither 2xx nor 3xx, or an arrival was skipped or never started; else 0.
int bench_exit_code(const BenchSummary& summary, std::uint64_t arrivals_not_made, int interrupted_by);

std::string bench_header(const BenchOptions& options);  // printed before the run
std::string bench_text(const BenchOptions& options, const BenchRun& run);
std::string bench_json(const BenchOptions& options, const BenchRun& run);

} // namespace lastcall::harness

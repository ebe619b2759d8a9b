#pragma once
// `lastcall bench`: a wrk-class load generator on the same engine as scenarios, with per-request
// recording on. Output familiar to wrk users, or JSON. Options: bench_options.hpp; what the
// summary counts: bench_summary.hpp; how it is told and the exit codes: bench_report.hpp.
#include "bench_options.hpp"

namespace lastcall::harness {

// Returns the process exit code; prints to stdout. SIGINT and SIGTERM end the run early: what it
// has is printed, marked interrupted (exit 130, 143).
int run_bench(const BenchOptions& options);

} // namespace lastcall::harness

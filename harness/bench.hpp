#pragma once
// `lastcall bench`: a wrk-class load generator on the same engine as scenarios, with per-request
// recording on. Output familiar to wrk users, or JSON.
#include <string>
#include <vector>

namespace lastcall::harness {

// Returns the process exit code; prints to stdout. Throws std::invalid_argument on bad arguments.
int run_bench(const std::vector<std::string>& arguments);
std::string bench_usage();

} // namespace lastcall::harness

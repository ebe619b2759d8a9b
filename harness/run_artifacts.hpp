#pragma once
// What one run leaves in its directory besides the target's own output: history.jsonl,
// streams.jsonl, events.jsonl, samples.jsonl, proxy.jsonl (with `proxy:`) and run.json (the summary),
// written once the run is over.
#include "run_directory.hpp"
#include "run_result.hpp"
#include "scenario.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace lastcall::harness {

// Throws RunDirectoryError when a file cannot be written. Sets `run`'s history_jsonl_* (what
// history.jsonl holds) before run.json says it.
void write_run_artifacts(const RunDirectory& dir, const Scenario& scenario, RunResult& run, const std::vector<nlohmann::json>& events);

// Room history.jsonl keeps for each request not ok, which it writes whatever its budget: a line
// without a reply value is under 500 bytes.
inline constexpr std::uint64_t jsonl_room_per_request_not_ok = 512;
// history.jsonl's budget for ok requests: limits.history_bytes (the cap in force) less the sorted
// history, still on disk while history.jsonl is written, less the room kept for the requests not ok.
std::uint64_t history_jsonl_budget(const RunResult& run);
// When history.jsonl left ok requests out, says so in one sentence (the console, report.html);
// empty when it holds every request.
std::string history_jsonl_shortened(const RunResult& run);

} // namespace lastcall::harness

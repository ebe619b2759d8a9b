#pragma once
// What one run leaves in its directory besides the target's own output: history.jsonl,
// streams.jsonl, events.jsonl, samples.jsonl, proxy.jsonl (with `proxy:`) and run.json (the summary),
// written once the run is over.
#include "run_directory.hpp"
#include "run_result.hpp"
#include "scenario.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace lastcall::harness {

// Throws RunDirectoryError when a file cannot be written.
void write_run_artifacts(const RunDirectory& dir, const Scenario& scenario, const RunResult& run, const std::vector<nlohmann::json>& events);

} // namespace lastcall::harness

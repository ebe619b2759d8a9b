#pragma once
// run.json: the summary of one run (generations, containment, signals, outcomes, errors), written
// into its run directory from the finished RunResult.
#include "run_directory.hpp"
#include "run_result.hpp"
#include "scenario.hpp"

namespace lastcall::harness {

// Throws RunDirectoryError when the file cannot be written.
void write_run_json(const RunDirectory& dir, const Scenario& scenario, const RunResult& result);

} // namespace lastcall::harness

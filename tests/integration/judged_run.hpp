#pragma once
// A scenario's text run as `lastcall run` runs it, against real processes ({server} is the
// lastcall-server of this build), in a fresh test directory, and judged by its checks.
#include "checks.hpp"
#include "scenario_run.hpp"

#include <string>
#include <vector>

namespace lastcall::harness {

// `dir_suffix` names the test's directory apart from the test's own name.
RunOptions test_run_options(const std::string& dir_suffix);

// The run; `checks` its verdict (empty when the run could not judge: start_error says why).
RunResult run_and_judge(const std::string& scenario_text, std::vector<CheckResult>& checks, const std::string& dir_suffix);

} // namespace lastcall::harness

#pragma once
// `lastcall run`'s options, also read by `lastcall check` for the words it passes on to the run.
#include <string>
#include <vector>

namespace lastcall::cli {

// Parses `arguments` as `lastcall run` would (no "run" in front) and runs them.
int run_with_arguments(const std::vector<std::string>& arguments);

} // namespace lastcall::cli

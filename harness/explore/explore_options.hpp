#pragma once
// `lastcall explore SCENARIO [--budget 5m] [--seed N] [--out DIR] ...`: the command line.
#include "scenario_run.hpp"
#include "scenario_variables.hpp"
#include "trial_generator.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace lastcall::harness::explore {

struct ExploreOptions {
    std::filesystem::path scenario_file;
    Duration budget = std::chrono::minutes(5);  // trials and shrink runs; reproduction of a finding comes after
    std::uint64_t seed = 1;
    std::filesystem::path out = "explore";
    int reruns = 5;                              // reproduction: k of n re-runs of each minimal scenario
    int max_shrink_runs = 60;                    // per finding
    ExploreBounds bounds;
    ScenarioVariables variables;
    RunOptions run;                              // server, extra target args (written into every trial file)
};

// Throws std::invalid_argument with the option named (exit 2).
ExploreOptions parse_explore_options(const std::vector<std::string>& args);
std::string explore_usage();

} // namespace lastcall::harness::explore

#pragma once
// `lastcall explore`'s options: the words as the command line gave them (cli/explore_command.cpp
// binds them) and what they mean, each value checked with the option named.
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
    Duration budget = std::chrono::minutes(5);  // trials and shrink runs; the re-runs of a finding come after
    std::uint64_t seed = 1;
    std::filesystem::path out = "explore";
    int reruns = 5;                              // reproduction: k of n re-runs of each minimal scenario
    int max_shrink_runs = 60;                    // per finding
    ExploreBounds bounds;
    ScenarioVariables variables;
    RunOptions run;                              // server, extra target args (written into every trial file)
};

// Empty: not given (the default above holds).
struct ExploreWords {
    std::string scenario, budget, seed, out, reruns, shrink_runs, server;
    std::string fast_signal, graceful_signal, latest, max_connections, max_rate;
    std::vector<std::string> target_args;
};

// Throws std::invalid_argument naming the option ("--budget 5q: not a duration like 90s, 5m or 250ms").
ExploreOptions read_explore_options(const ExploreWords& words);

} // namespace lastcall::harness::explore

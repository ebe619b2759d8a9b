#pragma once
// A trial written back as an ordinary scenario YAML file that `lastcall run` loads and reproduces:
// the scenario file's own text (target, contract, limits, expect: all as written, ${VAR}s kept)
// with the trial's workloads, its timeline and its seed, and `expect:` adapted to the signal
// sequence (a SIGKILL the trial sends is an expected exit; after a fast shutdown, drops are what
// "fast" means, so the checks that judge a graceful drain are off).
#include "scenario.hpp"
#include "trial.hpp"

#include <string>
#include <vector>

namespace lastcall::harness::explore {

struct TrialFile {
    std::string name;         // the scenario's `name:` (and run directory)
    std::string description;  // its `description:`
    std::vector<std::string> header;              // comment lines at the top (how it was found, how to run it)
    std::vector<std::string> extra_target_args;   // appended to target.command, so the file stands alone
};

// `scenario_text` is the file `scenario` was loaded from. Throws std::runtime_error when the text
// does not hold the sections `scenario` came from (it always does when they belong together).
std::string trial_scenario_yaml(const std::string& scenario_text, const Scenario& scenario, const Trial& trial, const TrialFile& file);

// "explore-generic-t12": the scenario's name shortened so the suffix fits a name's 64 characters.
std::string trial_name(const std::string& scenario_name, const std::string& suffix);

} // namespace lastcall::harness::explore

#pragma once
// The explore loop: trials until the budget is spent (or Ctrl+C); each failure of a new kind is
// shrunk (every candidate a real run, counted against the budget), written as a minimal scenario
// and re-run to measure how often it reproduces.
#include "checks.hpp"
#include "explore_options.hpp"
#include "trial.hpp"

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace lastcall::harness::explore {

// A failure shrunk to a minimal scenario.
struct Finding {
    std::string name;                     // of the minimal scenario
    std::filesystem::path file;           // OUT/findings/NAME.yaml
    std::filesystem::path run_dir;        // the minimal scenario's failing run (the original's is in its group)
    int trial_number = 0;                 // the trial that found it
    Trial original, minimal;
    std::set<std::string> checks;         // the failing checks the shrinker held on to (the trial's)
    std::vector<CheckResult> failed;      // the minimal run's failed checks, with evidence
    int shrink_runs = 0;
    bool shrink_stopped = false;          // the budget ran out before nothing more could be removed
    int reproduced = 0, reruns = 0;       // failed `reproduced` of `reruns` re-runs (any of `checks`)
    // Of those re-runs, how many failed each of `checks`: a finding of "dropped, exit" whose re-runs
    // fail exit every time and dropped once in five says so, not "5 of 5" alone.
    std::map<std::string, int> reproduced_by_check;
    int seen = 1;                         // trials that failed the same way (its groups')
    bool flaky() const { return reproduced < reruns; }
    // What the minimal scenario fails (its first failing re-run), else what the trial failed.
    std::set<std::string> minimal_checks() const;
};

// Failures with the same failing checks and evidence shape (trial_judge.hpp).
struct FailureGroup {
    std::set<std::string> checks;
    std::string shape;
    std::vector<int> trials;              // trial numbers
    std::vector<std::filesystem::path> run_dirs;  // kept: the trials' failing runs
    int finding = -1;                     // index into findings, when one was shrunk
};

// Two minimal trials are one finding when they differ in their seed at most.
bool same_scenario(const Trial& a, Trial b);

// Adds a failing trial to its group (the same failing checks, and for each the same evidence
// shape), a new group when none is; the group's index.
std::size_t add_to_group(std::vector<FailureGroup>& groups, const std::vector<CheckResult>& failed, int trial,
                         const std::filesystem::path& run_dir);

struct ExploreSummary {
    std::string scenario;
    std::uint64_t seed = 0;
    double budget_s = 0, elapsed_s = 0;
    int trials = 0, failures = 0, errors = 0, shrink_runs = 0;
    std::optional<double> first_failure_s;  // from the start of explore
    std::vector<Finding> findings;
    std::vector<FailureGroup> groups;
    std::vector<std::string> error_messages;  // trials that could not run (first few)
    bool interrupted = false;
};

struct ExploreHooks {
    std::function<void(const std::string&)> line;  // progress, one line per trial or step
};

// The scenario must load (ScenarioError otherwise); everything a target does is a verdict.
ExploreSummary explore(const ExploreOptions& options, const std::atomic<bool>* interrupted, const ExploreHooks& hooks = {});

// The command: prints the report, writes OUT/explore.json; the exit code (explore_options.hpp).
int run_explore(const ExploreOptions& options, const std::atomic<bool>* interrupted);

} // namespace lastcall::harness::explore

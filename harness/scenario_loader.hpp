#pragma once
// Reads scenario YAML into a validated Scenario. Every error names file:line:column and what was
// expected: unknown keys (with the nearest valid one), wrong types, values outside their range
// (scenario_ranges.hpp), unknown signals, workloads referenced but not defined. Whatever the file
// holds, the only exception is ScenarioError (yaml_document.hpp bounds the parse).
#include "scenario.hpp"
#include "scenario_error.hpp"
#include "scenario_variables.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace YAML {
class Node;
}

namespace lastcall::harness {

// What a scenario is read for, which decides whether it must test a shutdown by itself.
enum class ScenarioUse {
    // `lastcall run`: its timeline must end the target or reload it (a shutdown signal to the target
    // or its group, kill_if_alive, or reload). Without one the run only ends at limits.max_duration,
    // where lastcall kills the target, or passes having tested nothing (`workloads: []`).
    run,
    // `lastcall explore`'s scenario: explore writes the signals, each trial is a `run` scenario.
    explore,
    // `lastcall validate` and `list`: as `run`, or as `explore` for a file with an explore: section.
    validate,
    // The model alone: the readers' own tests, and text made with its timeline (check, explore's shapes).
    model,
};

// `variables`: what ${VAR} in the file's values stands for (scenario_variables.hpp).
Scenario load_scenario_file(const std::filesystem::path& file, const ScenarioVariables& variables = {}, ScenarioUse use = ScenarioUse::run);
Scenario load_scenario_text(const std::string& text, const std::string& file_name, const ScenarioVariables& variables = {},
                            ScenarioUse use = ScenarioUse::model);
// A document already parsed and with its variables substituted (explore's target shapes are
// assembled from the file's own nodes, so an error still names the file's line and column).
Scenario read_scenario_document(const YAML::Node& root, const std::string& file_name);

// Expands files and directories (every *.yaml / *.yml inside, sorted) into scenario files. A
// directory with no scenario, or that cannot be listed, stays in the list as itself so that
// load_scenario_file reports it.
std::vector<std::filesystem::path> scenario_files(const std::vector<std::string>& arguments);

} // namespace lastcall::harness

#pragma once
// A scenario's target shapes for `lastcall explore`: the scenario as written (shape 0, the
// simplest) and the alternatives its `explore: {shapes: [...]}` section declares, simplest first.
// A shape is an overlay on the scenario: arguments appended to target.command (`--workers 2`, a
// short graceful timeout), its readiness, workloads added or left out, timeline entries added,
// `expect:` and `limits:` keys set over the scenario's. Each trial runs one shape; the shrinker
// tries the simpler ones first. Shapes are assembled from the file's own YAML nodes, so whatever
// is wrong in one is reported at its file:line:column.
#include "scenario.hpp"
#include "scenario_variables.hpp"

#include <string>
#include <vector>

namespace lastcall::harness::explore {

struct TargetShape {
    std::string name;                        // "" for the scenario as written
    std::string text;                        // the shape as scenario YAML (without the explore: section)
    Scenario scenario;
    std::vector<std::string> own_workloads;  // the workloads the shape adds: why it exists, so every trial of it runs them
};

// Throws ScenarioError (file:line:column) when the scenario, its explore: section or a shape does
// not load.
std::vector<TargetShape> read_target_shapes(const std::string& text, const std::string& file, const ScenarioVariables& variables = {});

// One shape: the scenario as written (a scenario without an explore: section; the unit tests).
std::vector<TargetShape> plain_shape(const Scenario& scenario, const std::string& text = {});

} // namespace lastcall::harness::explore

#pragma once
// `${VAR}` and `${VAR:-default}` in a scenario's values, from `lastcall run/validate --var k=v`
// and the environment, substituted once the YAML is parsed (so a value can never turn into YAML
// structure) and before any reader sees it. `$$` is a literal `$`; a `$` not followed by `{` or
// `$` stays as it is. Keys are never substituted. An unset variable without a default is a
// ScenarioError at the scalar's file:line:column.
#include <yaml-cpp/yaml.h>

#include <map>
#include <string>

namespace lastcall::harness {

struct ScenarioVariables {
    std::map<std::string, std::string> values;  // --var; they win over the environment
    bool environment = true;                    // look names up with getenv too
};

// Every value scalar of `root`, in place. An alias is substituted once, with its anchor.
void substitute_variables(YAML::Node& root, const std::string& file, const ScenarioVariables& variables);

// The text with its variables replaced; throws std::invalid_argument with what is wrong.
std::string expand_variables(const std::string& text, const ScenarioVariables& variables);

} // namespace lastcall::harness

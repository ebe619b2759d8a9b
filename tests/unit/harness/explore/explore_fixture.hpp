#pragma once
// The scenario the explore unit tests start from: scenarios/explore/generic.yaml as loaded.
#include "scenario_loader.hpp"

#include <fstream>
#include <iterator>
#include <string>

namespace lastcall::harness::explore {

inline std::string generic_text() {
    std::ifstream in(std::string(LASTCALL_SCENARIOS_DIR) + "/explore/generic.yaml");
    return {std::istreambuf_iterator<char>(in), {}};
}

inline Scenario generic_scenario() { return load_scenario_text(generic_text(), "generic.yaml"); }

// scenarios/explore/prefork.yaml: a master with workers, the one kind of target trials reload.
inline std::string prefork_text() {
    std::ifstream in(std::string(LASTCALL_SCENARIOS_DIR) + "/explore/prefork.yaml");
    return {std::istreambuf_iterator<char>(in), {}};
}

inline Scenario prefork_scenario() { return load_scenario_text(prefork_text(), "prefork.yaml"); }

} // namespace lastcall::harness::explore

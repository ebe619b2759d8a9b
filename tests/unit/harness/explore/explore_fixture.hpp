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

} // namespace lastcall::harness::explore

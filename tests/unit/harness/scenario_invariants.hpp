#pragma once
// What every Scenario the loader accepts must satisfy: each range of scenario_ranges.hpp, the
// cross-field rules, and the text rules, restated here independently of the loader's code. Empty
// when all hold; otherwise one line per broken rule.
#include "scenario.hpp"

#include <string>
#include <vector>

namespace lastcall::harness::testing {

std::vector<std::string> invariant_violations(const Scenario& s);

} // namespace lastcall::harness::testing

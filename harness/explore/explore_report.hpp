#pragma once
// What explore found, as text (printed at the end) and as OUT/explore.json (version 1).
#include "explore_loop.hpp"

#include <string>

namespace lastcall::harness::explore {

std::string text_report(const ExploreSummary& summary);
std::string json_report(const ExploreSummary& summary);

} // namespace lastcall::harness::explore

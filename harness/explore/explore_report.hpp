#pragma once
// What explore found, as text (printed at the end) and as OUT/explore.json (version 1).
#include "explore_loop.hpp"

#include <string>
#include <vector>

namespace lastcall::harness::explore {

std::string text_report(const ExploreSummary& summary);

// Findings of the same failing checks are apart because their evidence differed in kind (another
// outcome, another message; add_to_group): what only this finding's evidence holds (`here`) and
// only the other's (`there`), numbers blanked. `other` empty: no other finding fails those checks.
struct FindingDifference {
    std::string other;  // the other finding's name
    std::string here, there;
};
std::vector<FindingDifference> finding_differences(const ExploreSummary& summary);  // one per finding

std::string json_report(const ExploreSummary& summary);

} // namespace lastcall::harness::explore

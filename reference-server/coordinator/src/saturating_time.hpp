#pragma once
#include "lastcall/coordinator/clock.hpp"

namespace lastcall::coordinator {

// now + budget without overflowing when a budget means "no limit".
inline TimePoint saturating_add(TimePoint now, Duration budget) {
    if (budget > TimePoint::max() - now) return TimePoint::max();
    return now + budget;
}

} // namespace lastcall::coordinator

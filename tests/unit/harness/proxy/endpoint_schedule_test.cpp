// When the proxy routes to the target: decided by the clock it is given, never by a timer.
#include "proxy/endpoint_schedule.hpp"

#include <gtest/gtest.h>

namespace lastcall::harness::proxy {
namespace {

using namespace std::chrono_literals;

TEST(EndpointSchedule, RoutesUntilTheRemovalAndAgainOnceRestored) {
    EndpointSchedule schedule;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(schedule.routable(t0 + 24h));  // nothing planned: always
    EXPECT_FALSE(schedule.removal_planned());
    schedule.remove_at(t0 + 1s);
    EXPECT_TRUE(schedule.removal_planned());
    EXPECT_TRUE(schedule.routable(t0 + 999ms));
    EXPECT_FALSE(schedule.routable(t0 + 1s));  // a request read at the removal instant gets the 503
    EXPECT_FALSE(schedule.routable(t0 + 2s));
    schedule.restore();
    EXPECT_FALSE(schedule.removal_planned());
    EXPECT_TRUE(schedule.routable(t0 + 2s));
}

} // namespace
} // namespace lastcall::harness::proxy

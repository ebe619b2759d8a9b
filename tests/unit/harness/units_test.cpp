#include "units.hpp"

#include <gtest/gtest.h>

namespace lastcall::harness {
namespace {

using namespace std::chrono_literals;

TEST(Units, Durations) {
    EXPECT_EQ(parse_duration("250ms"), Duration(250ms));
    EXPECT_EQ(parse_duration("3s"), Duration(3s));
    EXPECT_EQ(parse_duration("1m"), Duration(60s));
    EXPECT_EQ(parse_duration("1.5s"), Duration(1500ms));
    EXPECT_EQ(parse_duration("20us"), Duration(20us));
    EXPECT_EQ(parse_duration("0"), Duration(0s));
    for (const char* bad : {"", "3", "s", "-1s", "3 s", "1x", "ms", "1.2.3s"}) EXPECT_FALSE(parse_duration(bad)) << bad;
}

TEST(Units, Rates) {
    EXPECT_DOUBLE_EQ(*parse_rate("200/s"), 200.0);
    EXPECT_DOUBLE_EQ(*parse_rate("30/m"), 0.5);
    EXPECT_DOUBLE_EQ(*parse_rate("3600/h"), 1.0);
    for (const char* bad : {"200", "0/s", "-5/s", "10/d", "/s", "x/s"}) EXPECT_FALSE(parse_rate(bad)) << bad;
}

} // namespace
} // namespace lastcall::harness

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
    for (const char* bad : {"", "3", "s", "-1s", "3 s", "1x", "ms", "1.2.3s", ".5s", "1.s", "+1s"}) EXPECT_FALSE(parse_duration(bad)) << bad;
}

// from_chars reads "nan", "inf" and exponents; the cast of a value beyond the nanosecond count was
// undefined behaviour (issue 7, item 11).
TEST(Units, DurationsAreFiniteAndFitTheCount) {
    for (const char* bad : {"nans", "infs", "infinitys", "1e300s", "1e3ms", "99999999999999h", "2562048h", "1e-300s"}) {
        EXPECT_FALSE(parse_duration(bad)) << bad;
    }
    // The largest whole number of hours that fits in signed 64-bit nanoseconds (2^63 ns is 2562047.8 h).
    EXPECT_EQ(parse_duration("2562047h"), Duration(std::chrono::hours(2562047)));
    EXPECT_EQ(parse_duration("0.3s"), Duration(300ms));  // rounded, not truncated to 299999999 ns
}

TEST(Units, FormatDurationIsTheShortestExactSpelling) {
    EXPECT_EQ(format_duration(Duration::zero()), "0s");
    EXPECT_EQ(format_duration(250ms), "250ms");
    EXPECT_EQ(format_duration(90s), "90s");
    EXPECT_EQ(format_duration(2h), "2h");
    EXPECT_EQ(format_duration(1500us), "1500us");
    EXPECT_EQ(format_duration(Duration(1)), "1ns");
}

TEST(Units, Rates) {
    EXPECT_DOUBLE_EQ(*parse_rate("200/s"), 200.0);
    EXPECT_DOUBLE_EQ(*parse_rate("30/m"), 0.5);
    EXPECT_DOUBLE_EQ(*parse_rate("3600/h"), 1.0);
    for (const char* bad : {"200", "0/s", "-5/s", "10/d", "/s", "x/s", "nan/s", "inf/s", "1e-300/s", "1e3/s"}) {
        EXPECT_FALSE(parse_rate(bad)) << bad;
    }
}

} // namespace
} // namespace lastcall::harness

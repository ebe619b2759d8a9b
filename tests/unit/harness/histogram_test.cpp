#include "histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace lastcall::harness {
namespace {

std::uint64_t exact_percentile(std::vector<std::uint64_t> values, double p) {
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
    return values[std::max<std::size_t>(rank, 1) - 1];
}

TEST(Histogram, PercentilesWithinOneSixtyFourthOfExact) {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> latency(13.0, 1.2);  // around 0.4 ms with a long tail
    std::vector<std::uint64_t> values;
    Histogram h;
    for (int i = 0; i < 200000; ++i) {
        const auto v = static_cast<std::uint64_t>(latency(rng));
        values.push_back(v);
        h.record(v);
    }
    for (const double p : {50.0, 90.0, 99.0, 99.9, 100.0}) {
        const auto exact = static_cast<double>(exact_percentile(values, p));
        const auto reported = static_cast<double>(h.percentile(p));
        EXPECT_GE(reported, exact) << "p" << p;
        EXPECT_LE(reported, exact * (1.0 + 1.0 / 64)) << "p" << p;
    }
    EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
    EXPECT_EQ(h.count(), values.size());
}

TEST(Histogram, SmallValuesAreExactAndMergingAddsUp) {
    Histogram a, b;
    for (std::uint64_t v = 0; v < 100; ++v) (v % 2 ? a : b).record(v);
    a.merge(b);
    EXPECT_EQ(a.count(), 100u);
    EXPECT_EQ(a.percentile(50), 49u);
    EXPECT_EQ(a.percentile(100), 99u);
    EXPECT_EQ(a.min(), 0u);
}

TEST(Histogram, BucketsCoverTheWholeRange) {
    for (const std::uint64_t v : std::initializer_list<std::uint64_t>{127, 128, 255, 256, 1ull << 40, UINT64_MAX}) {
        const auto index = Histogram::index_of(v);
        EXPECT_GE(Histogram::highest_equivalent(index), v) << v;
    }
}

// verdict.json keeps a run's histogram: read back, every figure report.json shows is the same.
TEST(Histogram, SavedAndRestoredGivesTheSameFigures) {
    Histogram h;
    for (std::uint64_t v = 1; v < 200000; v = v * 3 + 7) h.record(v * 1000);
    const auto back = Histogram::restore(h.save());
    ASSERT_TRUE(back);
    EXPECT_EQ(back->count(), h.count());
    EXPECT_EQ(back->max(), h.max());
    EXPECT_EQ(back->min(), h.min());
    EXPECT_EQ(back->mean(), h.mean());
    for (const double p : {50.0, 90.0, 99.0, 99.9}) EXPECT_EQ(back->percentile(p), h.percentile(p)) << p;
    EXPECT_EQ(Histogram::restore(Histogram{}.save())->count(), 0u);
    EXPECT_FALSE(Histogram::restore({{{1u << 20, 1}}, 0, 0, 0})) << "an index past the last bucket";
    EXPECT_FALSE(Histogram::restore({{{5, 0}}, 0, 0, 0})) << "a bucket kept with no value";
}

} // namespace
} // namespace lastcall::harness

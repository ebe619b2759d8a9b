#pragma once
// A log-linear histogram of latencies in nanoseconds (HdrHistogram's layout, simplified): exact below
// 128 ns, then 64 sub-buckets per power of two, so any value is reported within 1/64 (1.6 %).
// Recording is an index computation and an increment; per-thread histograms are merged at the end.
#include <array>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace lastcall::harness {

class Histogram {
public:
    void record(std::uint64_t value);
    void merge(const Histogram& other);
    std::uint64_t count() const { return total_; }
    std::uint64_t max() const { return max_; }
    std::uint64_t min() const { return total_ ? min_ : 0; }
    double mean() const { return total_ ? static_cast<double>(sum_) / static_cast<double>(total_) : 0; }
    // The highest value equivalent to the recorded value at that percentile (0 < p <= 100).
    std::uint64_t percentile(double p) const;
    // Values recorded in [low, high], each bucket judged by its highest equivalent value (exact
    // below 128, else within 1/64).
    std::uint64_t count_between(std::uint64_t low, std::uint64_t high) const;

    // Kept and read back whole (verdict.json: a re-rendered report shows the run's own figures):
    // the buckets that hold values, as (index, count), and the exact sum, min and max.
    struct Saved {
        std::vector<std::pair<std::size_t, std::uint64_t>> buckets;
        std::uint64_t sum = 0, min = 0, max = 0;
    };
    Saved save() const;
    // None when a bucket's index is out of range or a count is 0.
    static std::optional<Histogram> restore(const Saved& saved);

    static std::size_t index_of(std::uint64_t value);
    static std::uint64_t highest_equivalent(std::size_t index);

private:
    static constexpr int sub_bits = 7;
    static constexpr std::uint64_t sub_count = 1u << sub_bits;  // 128
    static constexpr std::uint64_t half = sub_count / 2;
    static constexpr std::size_t bucket_count = sub_count + (64 - sub_bits) * half;

    std::array<std::uint64_t, bucket_count> counts_{};
    std::uint64_t total_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t min_ = UINT64_MAX;
};

} // namespace lastcall::harness

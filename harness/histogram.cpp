#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace lastcall::harness {

std::size_t Histogram::index_of(std::uint64_t value) {
    if (value < sub_count) return static_cast<std::size_t>(value);
    const int msb = 63 - std::countl_zero(value);
    const int shift = msb - (sub_bits - 1);  // value >> shift lands in [64, 127]
    return static_cast<std::size_t>(sub_count + static_cast<std::uint64_t>(shift - 1) * half + ((value >> shift) - half));
}

std::uint64_t Histogram::highest_equivalent(std::size_t index) {
    if (index < sub_count) return index;
    const auto shift = (index - sub_count) / half + 1;
    const auto sub = (index - sub_count) % half + half;
    return ((sub + 1) << shift) - 1;
}

void Histogram::record(std::uint64_t value) {
    ++counts_[index_of(value)];
    ++total_;
    sum_ += value;
    max_ = std::max(max_, value);
    min_ = std::min(min_, value);
}

void Histogram::merge(const Histogram& other) {
    for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    sum_ += other.sum_;
    max_ = std::max(max_, other.max_);
    min_ = std::min(min_, other.min_);
}

Histogram::Saved Histogram::save() const {
    Saved saved{{}, sum_, min(), max_};
    for (std::size_t i = 0; i < bucket_count; ++i) {
        if (counts_[i] > 0) saved.buckets.emplace_back(i, counts_[i]);
    }
    return saved;
}

std::optional<Histogram> Histogram::restore(const Saved& saved) {
    Histogram h;
    for (const auto& [index, count] : saved.buckets) {
        if (index >= bucket_count || count == 0) return std::nullopt;
        h.counts_[index] += count;
        h.total_ += count;
    }
    h.sum_ = saved.sum;
    h.max_ = saved.max;
    h.min_ = h.total_ > 0 ? saved.min : UINT64_MAX;
    return h;
}

std::uint64_t Histogram::percentile(double p) const {
    if (total_ == 0) return 0;
    const auto wanted = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total_))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += counts_[i];
        if (seen >= wanted) return std::min(highest_equivalent(i), max_);
    }
    return max_;
}

std::uint64_t Histogram::count_between(std::uint64_t low, std::uint64_t high) const {
    std::uint64_t n = 0;
    for (std::size_t i = index_of(low); i < bucket_count && highest_equivalent(i) <= high; ++i) n += counts_[i];
    // The bucket holding `high` itself, when its highest equivalent lies above it.
    const auto last = index_of(high);
    if (last < bucket_count && highest_equivalent(last) > high && last >= index_of(low)) n += counts_[last];
    return n;
}

} // namespace lastcall::harness

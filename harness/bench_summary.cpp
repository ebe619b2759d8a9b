#include "bench_summary.hpp"

#include <algorithm>
#include <cmath>

namespace lastcall::harness {

namespace {

// wrk samples each thread's rate every 100 ms.
constexpr std::int64_t window_us = 100'000;

bool count_failure(BenchFailures& f, Failure failure) {
    switch (failure) {
    case Failure::connect_refused: ++f.connect_refused; return true;
    case Failure::connect_error: ++f.connect_error; return true;
    case Failure::timeout: ++f.timeout; return true;
    case Failure::reset: ++f.reset; return true;
    case Failure::eof_before_response:
    case Failure::eof_mid_response:
    case Failure::truncated_stream: ++f.closed; return true;
    case Failure::write_error: ++f.write; return true;
    case Failure::bad_response:
    case Failure::header_too_large:
    case Failure::bad_length:
    case Failure::bad_chunk: ++f.bad_response; return true;
    case Failure::harness_error: ++f.harness; return true;
    default: return false;  // none, or a scenario contract (the bench has none): a whole response
    }
}

} // namespace

Spread spread_of(const std::vector<double>& samples) {
    Spread s;
    s.samples = samples.size();
    if (samples.empty()) return s;
    double sum = 0;
    for (const double v : samples) {
        sum += v;
        s.max = std::max(s.max, v);
    }
    s.mean = sum / static_cast<double>(samples.size());
    double squares = 0;
    for (const double v : samples) squares += (v - s.mean) * (v - s.mean);
    s.stdev = samples.size() > 1 ? std::sqrt(squares / static_cast<double>(samples.size() - 1)) : 0;
    const auto within = std::count_if(samples.begin(), samples.end(), [&](double v) { return std::abs(v - s.mean) <= s.stdev; });
    s.within_stdev_percent = 100.0 * static_cast<double>(within) / static_cast<double>(samples.size());
    return s;
}

void BenchTally::add(const RequestRecord& r, bool after_stop, bool out_of_descriptors) {
    auto& out = totals_;
    if (out_of_descriptors && r.failure == Failure::connect_error) {
        ++out.not_attempted;
        return;
    }
    const bool whole = r.status != 0 && (r.failure == Failure::none || is_contract_failure(r.failure));
    if (!whole) {
        // Cut by the run's end (its connection closed under it): no verdict on the target.
        if (r.outcome == Outcome::unknown && r.failure != Failure::harness_error && after_stop) ++out.cut_at_end;
        else if (!count_failure(out.failed, r.failure)) ++out.failed.closed;  // incomplete without a failure: never expected
        return;
    }
    ++out.completed;
    out.bytes += r.bytes;
    if (r.status < 200 || r.status >= 400) ++out.non_2xx_3xx;
    const auto from = origin_ == LatencyOrigin::send && r.sent_us >= 0 ? r.sent_us : r.intended_us;
    const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.done_us - from));
    out.latency_us.record(us);
    latency_sum_ += us;
    latency_squares_ += static_cast<WideCount>(us) * us;
    const auto thread = static_cast<std::size_t>(r.id & 0xff);
    const auto window = static_cast<std::size_t>(std::max<std::int64_t>(0, r.done_us) / window_us);
    if (windows_.size() <= thread) windows_.resize(thread + 1);
    auto& counts = windows_[thread];
    if (counts.size() <= window) counts.resize(window + 1);  // grows 10 entries a second
    ++counts[window];
}

void BenchTally::merge(const BenchTally& other) {
    auto& out = totals_;
    const auto& in = other.totals_;
    out.completed += in.completed;
    out.non_2xx_3xx += in.non_2xx_3xx;
    out.bytes += in.bytes;
    out.cut_at_end += in.cut_at_end;
    out.not_attempted += in.not_attempted;
    auto& f = out.failed;
    f.connect_refused += in.failed.connect_refused;
    f.connect_error += in.failed.connect_error;
    f.timeout += in.failed.timeout;
    f.reset += in.failed.reset;
    f.closed += in.failed.closed;
    f.write += in.failed.write;
    f.bad_response += in.failed.bad_response;
    f.harness += in.failed.harness;
    out.latency_us.merge(in.latency_us);
    latency_sum_ += other.latency_sum_;
    latency_squares_ += other.latency_squares_;
    if (windows_.size() < other.windows_.size()) windows_.resize(other.windows_.size());
    for (std::size_t t = 0; t < other.windows_.size(); ++t) {
        auto& mine = windows_[t];
        const auto& theirs = other.windows_[t];
        if (mine.size() < theirs.size()) mine.resize(theirs.size());
        for (std::size_t w = 0; w < theirs.size(); ++w) mine[w] += theirs[w];
    }
}

BenchSummary BenchTally::summary(const SummaryInput& input) const {
    BenchSummary out = totals_;
    out.origin = origin_;
    auto& l = out.latency;
    l.samples = out.completed;
    if (l.samples > 0) {
        const auto n = static_cast<long double>(l.samples);
        l.mean = static_cast<double>(static_cast<long double>(latency_sum_) / n);
        l.max = static_cast<double>(out.latency_us.max());
        // Sum of squared deviations = sum(x^2) - sum(x)^2 / n, in exact integers as far as they go.
        const auto sum = static_cast<WideCount>(latency_sum_);
        const auto deviations = static_cast<long double>(latency_squares_) - static_cast<long double>(sum * sum) / n;
        l.stdev = l.samples > 1 ? static_cast<double>(std::sqrt(std::max<long double>(0, deviations / (n - 1)))) : 0;
        // Within mean +/- stdev, from the histogram: exact below 128 us, else within 1/64 of the bound.
        const auto low = static_cast<std::uint64_t>(std::max(0.0, std::ceil(l.mean - l.stdev)));
        const auto high = static_cast<std::uint64_t>(std::floor(l.mean + l.stdev));
        l.within_stdev_percent = 100.0 * static_cast<double>(out.latency_us.count_between(low, high)) / static_cast<double>(l.samples);
    }
    const auto threads = static_cast<std::size_t>(std::max(1, input.threads));
    const auto windows = static_cast<std::size_t>(std::max<std::int64_t>(0, input.stopped_us / window_us));  // whole windows only
    std::vector<double> rates;
    rates.reserve(threads * windows);
    for (std::size_t t = 0; t < threads; ++t) {
        for (std::size_t w = 0; w < windows; ++w) {
            std::uint64_t n = 0;
            for (std::size_t id_byte = t; id_byte < windows_.size(); id_byte += threads) {  // the id's low byte is its thread
                if (w < windows_[id_byte].size()) n += windows_[id_byte][w];
            }
            rates.push_back(static_cast<double>(n) * 1e6 / static_cast<double>(window_us));
        }
    }
    out.requests_per_thread = spread_of(rates);
    return out;
}

BenchSummary summarize(const std::vector<RequestRecord>& history, const SummaryInput& input) {
    BenchTally tally(input.origin);
    for (const auto& r : history) tally.add(r, r.done_us >= input.stopped_us);
    return tally.summary(input);
}

} // namespace lastcall::harness

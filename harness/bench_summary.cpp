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

BenchSummary summarize(const std::vector<RequestRecord>& history, const SummaryInput& input) {
    BenchSummary out;
    out.origin = input.origin;
    const auto threads = static_cast<std::size_t>(std::max(1, input.threads));
    const auto windows = static_cast<std::size_t>(std::max<std::int64_t>(0, input.stopped_us / window_us));  // whole windows only
    std::vector<std::uint64_t> per_window(threads * windows, 0);
    const auto whole = [](const RequestRecord& r) { return r.status != 0 && (r.failure == Failure::none || is_contract_failure(r.failure)); };
    const auto latency_of = [&](const RequestRecord& r) {
        const auto from = input.origin == LatencyOrigin::send && r.sent_us >= 0 ? r.sent_us : r.intended_us;
        return static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.done_us - from));
    };
    // Two passes over the history rather than a copy of every latency: a long run holds millions.
    double sum = 0;
    for (const auto& r : history) {
        if (!whole(r)) {
            // Cut by the run's end (its connection closed under it): no verdict on the target.
            if (r.outcome == Outcome::unknown && r.failure != Failure::harness_error && r.done_us >= input.stopped_us) ++out.cut_at_end;
            else if (!count_failure(out.failed, r.failure)) ++out.failed.closed;  // incomplete without a failure: never expected
            continue;
        }
        ++out.completed;
        out.bytes += r.bytes;
        if (r.status < 200 || r.status >= 400) ++out.non_2xx_3xx;
        const auto us = latency_of(r);
        out.latency_us.record(us);
        sum += static_cast<double>(us);
        const auto window = static_cast<std::size_t>(std::max<std::int64_t>(0, r.done_us) / window_us);
        if (window < windows) per_window[(r.id & 0xff) % threads * windows + window] += 1;  // the id's low byte is its thread
    }
    auto& l = out.latency;
    l.samples = out.completed;
    if (l.samples > 0) {
        l.mean = sum / static_cast<double>(l.samples);
        l.max = static_cast<double>(out.latency_us.max());
        double squares = 0;
        for (const auto& r : history) {
            if (whole(r)) squares += (static_cast<double>(latency_of(r)) - l.mean) * (static_cast<double>(latency_of(r)) - l.mean);
        }
        l.stdev = l.samples > 1 ? std::sqrt(squares / static_cast<double>(l.samples - 1)) : 0;
        std::uint64_t within = 0;
        for (const auto& r : history) {
            if (whole(r) && std::abs(static_cast<double>(latency_of(r)) - l.mean) <= l.stdev) ++within;
        }
        l.within_stdev_percent = 100.0 * static_cast<double>(within) / static_cast<double>(l.samples);
    }
    std::vector<double> rates;
    rates.reserve(per_window.size());
    for (const auto n : per_window) rates.push_back(static_cast<double>(n) * 1e6 / static_cast<double>(window_us));
    out.requests_per_thread = spread_of(rates);
    return out;
}

} // namespace lastcall::harness

#pragma once
// The range of every number a scenario holds, checked when it is loaded (scenarios/README.md has
// the table). A value outside its range either can never work (a rate of 1e-300/s waits forever
// for its first request) or breaks the run (a duration that overflows the clock).
#include "units.hpp"

#include <cstdint>
#include <limits>

namespace lastcall::harness {

template <typename T>
struct Range {
    T min;
    T max;
    constexpr bool contains(T value) const { return min <= value && value <= max; }
};

namespace ranges {

using namespace std::chrono_literals;

inline constexpr std::int64_t unbounded = std::numeric_limits<std::int64_t>::max();

// Times. A duration is at most a day: nothing a scenario measures takes longer, and every deadline
// lastcall computes from one (now + duration) stays far from overflowing.
inline constexpr Range<Duration> max_duration{100ms, 24h};
inline constexpr Range<std::int64_t> history_bytes{4096, std::int64_t{1} << 40};  // limits.history_bytes
inline constexpr Range<Duration> ready_timeout{10ms, 1h};
inline constexpr Range<Duration> think{0s, 1h};
inline constexpr Range<Duration> start{0s, 24h};          // and before max_duration
inline constexpr Range<Duration> stop{1ms, 24h};          // and after start
inline constexpr Range<Duration> request_timeout{1ms, 1h};
inline constexpr Range<Duration> at{0s, 24h};             // and before max_duration
inline constexpr Range<Duration> delay{0s, 24h};          // and shorter than max_duration
inline constexpr Range<Duration> pause{1ms, 1h};
inline constexpr Range<Duration> every{1ms, 24h};          // a repeated entry's period; its last firing before max_duration
inline constexpr Range<Duration> jitter{0s, 1h};          // and at most max_duration
inline constexpr Range<Duration> expectation{0s, 24h};    // the time bounds under expect:
inline constexpr Range<Duration> poll_interval{1ms, 1min};  // job.poll_interval
inline constexpr Range<Duration> endpoint_lag{0s, 1h};      // proxy.endpoint_lag
inline constexpr Range<Duration> proxy_timeout{1ms, 1h};    // proxy.connect_timeout, response_timeout, pool.idle_timeout

// Rates, per second: from 1/h (the slowest unit's one) to a million per second per workload.
inline constexpr Range<double> rate{1.0 / 3600.0, 1e6};
inline constexpr const char* rate_text = "from 1/h to 1000000/s";

// Counts.
inline constexpr Range<std::int64_t> connections{1, 100'000};
inline constexpr Range<std::int64_t> max_requests{1, 100'000'000};
inline constexpr Range<std::int64_t> threads{1, 64};
inline constexpr Range<std::int64_t> repeat{1, 10'000};
inline constexpr Range<std::int64_t> seed{0, unbounded};
inline constexpr Range<std::int64_t> port{1, 65'535};
inline constexpr Range<std::int64_t> in_flight{0, 10'000'000};  // and reachable by the closed loops
inline constexpr Range<std::int64_t> child_index{1, 4'096};   // child N, worker N
inline constexpr Range<std::int64_t> repeat_count{1, 10'000};  // a timeline entry's count
inline constexpr Range<std::int64_t> expected_count{0, unbounded};  // dropped, errors, orphans, fd_leak
inline constexpr Range<std::int64_t> exit_code{0, 255};
inline constexpr Range<std::int64_t> body_bytes{0, unbounded};          // expect_body.bytes
inline constexpr Range<std::int64_t> increment{1, 1'000'000'000};  // acked_writes.increment
inline constexpr Range<std::int64_t> proxy_pool{0, 4'096};          // proxy.pool.max

// Names that become file names (the scenario's run directory) are one path component.
inline constexpr std::size_t max_name_length = 64;

} // namespace ranges
} // namespace lastcall::harness

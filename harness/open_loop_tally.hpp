#pragma once
// What an open-loop workload's schedule came to, for the run's record and its checks.
#include <chrono>
#include <cstdint>

namespace lastcall::harness {

// An open-loop workload's schedule as it went (summed over the threads): what it started, what it
// skipped (the outstanding limit), what was due by the moment it was stopped and never started
// (lastcall could not keep up), and how long its schedule ran (the longest of its threads').
struct OpenLoopTally {
    std::uint64_t started = 0;
    std::uint64_t skipped = 0;
    std::uint64_t behind = 0;
    std::chrono::nanoseconds scheduled{0};
    std::uint64_t due() const { return started + skipped + behind; }
};

} // namespace lastcall::harness

#pragma once
// Drives the workloads at the target: one io_context per thread, each thread with its own share of
// every workload's connections (closed loop) or rate (open loop; latency from the intended start,
// so coordinated omission shows). Each thread records into its own preallocated history and
// histogram and merges only at the end; the live counters are per thread too.
#include "histogram.hpp"
#include "history.hpp"
#include "scenario.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lastcall::harness {

using SteadyTime = std::chrono::steady_clock::time_point;

struct LiveCounts {
    std::int64_t in_flight = 0;
    std::uint64_t completed = 0;
    std::array<std::uint64_t, outcome_count> by_outcome{};
};

struct LoadOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    int threads = 1;
    SteadyTime run_start{};
    std::size_t expected_records = 1 << 16;  // preallocated across threads
};

class LoadGenerator {
public:
    LoadGenerator(std::vector<Workload> workloads, LoadOptions options);
    ~LoadGenerator();
    LoadGenerator(const LoadGenerator&) = delete;
    LoadGenerator& operator=(const LoadGenerator&) = delete;

    void start();
    void stop(const std::vector<std::string>& workloads);  // empty: all; thread-safe
    void start_workload(const std::string& workload);      // thread-safe
    // Requests in flight at `when` that fail afterwards are `unknown`: the scenario cut them.
    void mark_target_killed(SteadyTime when);
    // Stops all load, gives requests in flight up to `grace` to resolve, cuts the rest, joins.
    void finish(std::chrono::nanoseconds grace);

    LiveCounts live() const;
    bool all_workloads_done() const;
    // Job ids from accepted jobs so far. Call only while no load runs (all workloads done).
    std::vector<std::int64_t> peek_job_ids() const;
    // After finish(): every record of every thread, ordered by intended start.
    std::vector<RequestRecord> take_history();
    // After finish(): latency (intended start -> done) of requests that ended ok.
    Histogram latency() const;
    const std::vector<Workload>& workloads() const { return workloads_; }

private:
    struct Worker;
    std::vector<Workload> workloads_;
    LoadOptions options_;
    std::atomic<std::int64_t> killed_at_us_{-1};
    std::vector<std::unique_ptr<Worker>> workers_;
    bool finished_ = false;
};

} // namespace lastcall::harness

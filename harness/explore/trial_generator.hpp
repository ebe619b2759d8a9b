#pragma once
// Trials from a scenario: pure, seeded (the same scenario, bounds and seed give the same trial).
// Varies what the scenario leaves open, within bounds the scenario gives (its connections and
// rates are the most a trial uses) or explore's flags override.
#include "scenario.hpp"
#include "target_shapes.hpp"
#include "trial.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lastcall::harness::explore {

struct ExploreBounds {
    Duration earliest = std::chrono::milliseconds(100);  // the first signal's moment, from the load's start
    std::optional<Duration> latest;                      // default: a third of limits.max_duration
    std::optional<int> max_connections;                  // per closed workload (default: the scenario's)
    std::optional<double> max_rate;                      // per open workload (default: the scenario's)
    std::optional<int> graceful_signal;                  // default: the scenario's shutdown signal, else TERM
    std::optional<int> fast_signal;                      // none: the `fast` sequence is not tried
    Duration longest_follow_up = std::chrono::seconds(1);
    Duration longest_pause = std::chrono::milliseconds(300);
};

// A reload must be over before the first signal for zero_downtime to judge it (a worker's boot
// took 2.7 s on a busy machine): the first signal comes at least this long after the last reload.
inline constexpr Duration reload_settle = std::chrono::seconds(4);

// The share of a scenario's trials that end in SIGKILL (graceful_then_kill) when it expects
// acked_writes: durability is tested only by a kill, which one sequence in five is too rarely.
inline constexpr double durable_kill_share = 0.5;

// Whether trials may reload the target: a master with workers (`workers_drained` expected).
bool reloads_target(const Scenario& scenario);

Trial generate_trial(const Scenario& scenario, const ExploreBounds& bounds, std::uint64_t seed);
// A trial of shapes[shape] (explore takes the shapes in turn): its scenario's open choices drawn
// as above, the shape's own workloads always run.
Trial generate_trial(const std::vector<TargetShape>& shapes, std::size_t shape, const ExploreBounds& bounds, std::uint64_t seed);

// The moment window actually used: [earliest, latest] with latest defaulted and clamped.
Duration latest_moment(const Scenario& scenario, const ExploreBounds& bounds);

// Workloads no trial drops: those `expect:` or a kept timeline entry needs (acked_writes' workload,
// the job workloads of jobs_accounted, resumed streams for streams_resumed, start_load/stop_load).
std::vector<std::string> pinned_workloads(const Scenario& scenario);

// The scenario's timeline entries a trial keeps: all but its shutdown signals, which the trial's
// own sequence replaces.
std::vector<std::size_t> own_entries(const Scenario& scenario);

// The trial can be written as a scenario that loads: at least one workload, all of them the
// scenario's, a condition that can
// hold (`in_flight >= N` within the closed loops' connections, no open loop), reloads in order and
// each `reload_settle` before a first signal at a time.
bool consistent(const Trial& trial, const Scenario& scenario);

} // namespace lastcall::harness::explore

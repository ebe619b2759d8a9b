#pragma once
// One trial of `lastcall explore`: what it chose for everything the scenario leaves open (which
// workloads, how many connections or how fast, when the first signal goes, what follows it).
// Plain data: the generator makes one from a seed, the shrinker makes smaller ones, trial_yaml
// writes one as an ordinary scenario that `lastcall run` reproduces.
#include "units.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lastcall::harness::explore {

// What follows the first (graceful) signal. Ordered from simplest: the shrinker tries `graceful`
// for every other kind.
enum class SignalSequence {
    graceful,             // the graceful signal alone
    fast,                 // the fast signal instead (only when explore was told which it is)
    graceful_then_kill,   // graceful, then SIGKILL `follow_up` later if still alive (an orchestrator's grace ending)
    graceful_twice,       // graceful, then graceful again `follow_up` later (many servers: "now")
    pause_while_draining, // graceful, then SIGSTOP `follow_up` later and SIGCONT `pause` after that
    reload_only,          // no shutdown signal: the trial's reloads, then the load stops at `moment.at` and
                          // lastcall ends the target as it ends any run (zero_downtime judges the reloads alone)
};
std::string_view to_string(SignalSequence sequence);

// A workload the trial keeps, by the scenario's name, with its own load.
struct TrialWorkload {
    std::string name;
    int connections = 1;  // closed loop
    double rate = 0;      // open loop, requests per second
    bool operator==(const TrialWorkload&) const = default;
};

// When the first signal goes: at a time, or `delay` after the load first has `in_flight_at_least`
// requests in flight (`when: in_flight >= N`).
struct SignalMoment {
    Duration at{};
    std::optional<std::int64_t> in_flight_at_least;
    Duration delay{};
    bool operator==(const SignalMoment&) const = default;
};

struct Trial {
    std::uint64_t seed = 1;  // the run's seed (`seed:`)
    std::vector<TrialWorkload> workloads;
    SignalMoment moment;
    SignalSequence sequence = SignalSequence::graceful;
    int graceful_signal = 15;
    int fast_signal = 0;       // with SignalSequence::fast
    Duration follow_up{};      // from the first signal to the second step
    Duration pause{};          // pause_while_draining
    // The scenario's own timeline entries that are not its shutdown signal (a restart, a
    // start_load), by index into Scenario::timeline; the shrinker drops what it can.
    std::vector<std::size_t> kept_entries;
    // Reloads (the target's reload signal to its main process, `reload: true`) at these moments
    // from the load's start, each well before the first signal: a master with workers only.
    std::vector<Duration> reloads;
    // The target shape (target_shapes.hpp) by index, 0 the scenario as written, and its name.
    std::size_t shape = 0;
    std::string shape_name;
    bool operator==(const Trial&) const = default;
};

// One line: "fast x4, sse x2; SIGTERM at 1.2s, then SIGKILL after 300ms", "[prefork] ..." for a shape.
std::string describe(const Trial& trial);

} // namespace lastcall::harness::explore

#pragma once
// The scenario's timeline as a pure function of time and conditions: which actions are due now.
// No clock, no I/O: the conductor passes the time since the run started and what it observes, and
// fires what comes back. A pause becomes SIGSTOP now and SIGCONT after its duration. Jitter moves
// every `at` by a uniform amount in [-jitter, +jitter], drawn from the seed, so a run reproduces.
// An entry with `every: D, count: N` fires N times, D apart (from its `at`, or from when its
// condition first held).
#include "scenario.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace lastcall::harness {

struct TimelineConditions {
    std::int64_t in_flight = 0;
    bool ready = true;        // the readiness probe's latest answer was a pass
    bool exited = false;      // the current target generation has exited
    bool signal_sent = false;  // a shutdown signal has been sent
};

struct DueAction {
    Action action;
    const TimelineEntry* entry = nullptr;  // the entry that asked for it
    Duration due{};                         // when it was due (its time on the timeline)
    bool resumes_pause = false;             // the SIGCONT that ends a pause
};

class Timeline {
public:
    Timeline(const std::vector<TimelineEntry>& entries, Duration jitter, std::uint64_t seed);

    // Actions due at `now` (time since the run started), in timeline order; each returned once.
    std::vector<DueAction> advance(Duration now, const TimelineConditions& conditions);
    bool done() const;             // every entry fired and no pause waits for its SIGCONT
    bool restart_planned() const;  // an entry that restarts the target has not fired yet
    // Each `at` entry's (first) time after jitter, in order of the entries (nullopt for `when` entries).
    std::vector<std::optional<Duration>> scheduled() const;

private:
    // One firing: an entry with `count: N` has N slots, `every` apart (offset).
    struct Slot {
        const TimelineEntry* entry;
        std::optional<Duration> due;  // known once its time is fixed (at) or its condition held (when)
        Duration offset{};
        bool fired = false;
    };
    static bool holds(const Condition& c, const TimelineConditions& now);

    std::vector<Slot> slots_;
    std::vector<DueAction> resumes_;  // SIGCONTs of pauses, due later
};

} // namespace lastcall::harness

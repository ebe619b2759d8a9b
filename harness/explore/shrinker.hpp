#pragma once
// Shrinks a failing trial to a smaller one that still fails: a simpler target shape (an earlier
// one of the scenario's, tried first: a failure of the plain target needs no --workers), fewer workloads, fewer connections,
// lower rates, fewer timeline entries, a simpler signal sequence, moments moved earlier by
// bisection. Greedy, QuickCheck-style: each step keeps a candidate only if it still fails, and
// the passes repeat until none changes anything. Pure: the judge is a callback (in `lastcall
// explore` each call is a real run; in the tests a function of the trial).
#include "scenario.hpp"
#include "trial.hpp"
#include "trial_generator.hpp"

#include <functional>

namespace lastcall::harness::explore {

struct ShrinkLimits {
    Duration earliest = std::chrono::milliseconds(100);  // no moment moves before this (explore's window start)
    Duration resolution = std::chrono::milliseconds(10); // bisection stops when the interval is this narrow
    double rate_resolution = 0.1;                         // ... or, for rates, this fraction of the rate
    int max_candidates = 200;                             // judge calls at most
};

struct ShrinkResult {
    Trial trial;           // the smallest that failed (the input when nothing smaller did)
    int candidates = 0;    // judge calls made
    int accepted = 0;      // of them, the ones that failed and were kept
    bool stopped = false;  // `stop` said so (budget, Ctrl+C) or max_candidates was reached
};

// `fails` judges a candidate; `stop` is asked before each call. `trial` is assumed to fail.
ShrinkResult shrink(const Trial& trial, const Scenario& scenario, const ShrinkLimits& limits, const std::function<bool(const Trial&)>& fails,
                    const std::function<bool()>& stop = [] { return false; });
// The same over a scenario's target shapes: trial.shape indexes `shapes`.
ShrinkResult shrink(const Trial& trial, const std::vector<TargetShape>& shapes, const ShrinkLimits& limits,
                    const std::function<bool(const Trial&)>& fails, const std::function<bool()>& stop = [] { return false; });

// `trial` moved to shapes[shape]: the workloads that shape has kept, the ones it needs added (one
// connection each), its own timeline entries, no reloads unless it has workers.
Trial reshaped(const Trial& trial, const std::vector<TargetShape>& shapes, std::size_t shape);

// How big a trial is, for reports: workloads + connections + timeline entries, + 1 for a shape
// other than the scenario as written.
int trial_size(const Trial& trial);

} // namespace lastcall::harness::explore

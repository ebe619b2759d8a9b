#pragma once
// Shrinks a failing trial to a smaller one that still fails: fewer workloads, fewer connections,
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

// How big a trial is, for reports: workloads + connections + timeline entries.
int trial_size(const Trial& trial);

} // namespace lastcall::harness::explore

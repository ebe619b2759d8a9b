// What the coordinator adds to every request: one drain guard taken and released.
#include "lastcall/coordinator/drain_tracker.hpp"

#include <benchmark/benchmark.h>

namespace {

void BM_TrackRequest(benchmark::State& state) {
    static lastcall::coordinator::DrainTracker tracker;
    for (auto _ : state) {
        auto guard = tracker.track_request();
        benchmark::DoNotOptimize(guard);
    }
}
BENCHMARK(BM_TrackRequest)->Threads(1)->Threads(2);

void BM_TrackRequestWhileDraining(benchmark::State& state) {
    static lastcall::coordinator::DrainTracker tracker;
    tracker.begin_draining();
    for (auto _ : state) {
        auto guard = tracker.track_request();
        benchmark::DoNotOptimize(guard);
    }
}
BENCHMARK(BM_TrackRequestWhileDraining);

} // namespace

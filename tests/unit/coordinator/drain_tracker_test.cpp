#include "lastcall/coordinator/drain_tracker.hpp"
#include "lastcall/coordinator/task_tracker.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace lastcall::coordinator {
namespace {

TEST(DrainTracker, IdleWaiterFiresAtOnceWhenNothingIsInFlight) {
    DrainTracker tracker;
    int fired = 0;
    tracker.on_idle([&] { ++fired; });
    EXPECT_EQ(fired, 1);
}

TEST(DrainTracker, IdleWaiterFiresExactlyOnceWhenTheLastGuardGoes) {
    DrainTracker tracker;
    auto a = tracker.track_request();
    auto b = tracker.track_stream([] {});
    int fired = 0;
    tracker.on_idle([&] { ++fired; });
    a.release();
    EXPECT_EQ(fired, 0);
    auto moved = std::move(b);
    b.release();  // moved-from: no effect
    EXPECT_EQ(fired, 0);
    moved.release();
    EXPECT_EQ(fired, 1);
    EXPECT_EQ(tracker.in_flight(), 0u);
}

TEST(DrainTracker, EndStreamsTellsEachLiveStreamOnce) {
    DrainTracker tracker;
    int told = 0;
    auto a = tracker.track_stream([&] { ++told; });
    auto b = tracker.track_stream([&] { ++told; });
    auto request = tracker.track_request();
    tracker.end_streams();
    tracker.end_streams();
    EXPECT_EQ(told, 2);
    EXPECT_EQ(tracker.streams_told_to_end(), 2u);
}

TEST(DrainTracker, CountsFromManyThreadsAndFiresOnce) {
    DrainTracker tracker;
    std::vector<DrainTracker::Guard> guards;
    for (int i = 0; i < 4000; ++i) guards.push_back(tracker.track_request());
    std::atomic<int> fired{0};
    tracker.on_idle([&] { ++fired; });
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&guards, t] {
            for (std::size_t i = static_cast<std::size_t>(t); i < guards.size(); i += 4) guards[i].release();
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(fired.load(), 1);
}

TEST(TaskTracker, FinishAfterAbandonIsNotCountedTwice) {
    TaskTracker tracker;
    auto handle = tracker.start("stuck", [] {});
    tracker.cancel_all();
    EXPECT_EQ(tracker.abandon_running(), std::vector<std::string>{"stuck"});
    handle.release();
    const auto counts = tracker.counts();
    EXPECT_EQ(counts.abandoned, 1u);
    EXPECT_EQ(counts.cancelled, 0u);
    EXPECT_EQ(tracker.running(), 0u);
}

} // namespace
} // namespace lastcall::coordinator

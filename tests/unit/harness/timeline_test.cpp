// The timeline on fake time: due actions as a pure function of time and conditions.
#include "timeline.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <set>

namespace lastcall::harness {
namespace {

using namespace std::chrono_literals;

TimelineEntry at(Duration when, Action action) {
    TimelineEntry e;
    e.at = when;
    e.action = std::move(action);
    return e;
}

TimelineEntry when(Condition::Kind kind, Action action, Duration delay = Duration::zero(), std::int64_t threshold = 0) {
    TimelineEntry e;
    e.when = Condition{kind, threshold};
    e.delay = delay;
    e.action = std::move(action);
    return e;
}

int signal_of(const DueAction& d) { return std::get<SignalAction>(d.action).signal; }

TEST(Timeline, FiresEachTimedEntryOnceAtItsTime) {
    const std::vector<TimelineEntry> entries{at(1s, SignalAction{SIGTERM}), at(2s, SignalAction{SIGKILL})};
    Timeline t(entries, Duration::zero(), 1);
    EXPECT_TRUE(t.advance(999ms, {}).empty());
    auto due = t.advance(1s, {});
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(signal_of(due[0]), SIGTERM);
    EXPECT_EQ(due[0].due, 1s);
    EXPECT_TRUE(t.advance(1500ms, {}).empty()) << "fired once";
    EXPECT_FALSE(t.done());
    due = t.advance(5s, {});  // a late tick still fires it, with its planned time
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].due, 2s);
    EXPECT_TRUE(t.done());
}

TEST(Timeline, ConditionsStartTheirDelayWhenTheyFirstHold) {
    const std::vector<TimelineEntry> entries{when(Condition::Kind::in_flight_at_least, SignalAction{SIGTERM}, 300ms, 50)};
    Timeline t(entries, Duration::zero(), 1);
    TimelineConditions c;
    c.in_flight = 49;
    EXPECT_TRUE(t.advance(1s, c).empty());
    c.in_flight = 50;
    EXPECT_TRUE(t.advance(2s, c).empty()) << "held at 2 s: due at 2.3 s";
    c.in_flight = 0;  // the condition no longer holds; the entry is already due
    EXPECT_TRUE(t.advance(2299ms, c).empty());
    const auto due = t.advance(2300ms, c);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].due, 2300ms);
}

TEST(Timeline, EveryConditionKind) {
    const std::vector<TimelineEntry> entries{when(Condition::Kind::not_ready, StopLoadAction{}), when(Condition::Kind::exited, RestartTargetAction{}),
                                             when(Condition::Kind::after_signal, SignalAction{SIGINT})};
    Timeline t(entries, Duration::zero(), 1);
    EXPECT_TRUE(t.restart_planned());
    TimelineConditions c;
    EXPECT_TRUE(t.advance(1s, c).empty());
    c.ready = false;
    EXPECT_EQ(t.advance(2s, c).size(), 1u);
    c.signal_sent = true;
    EXPECT_EQ(t.advance(3s, c).size(), 1u);
    c.exited = true;
    const auto due = t.advance(4s, c);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<RestartTargetAction>(due[0].action));
    EXPECT_FALSE(t.restart_planned());
    EXPECT_TRUE(t.done());
}

TEST(Timeline, APauseIsStopNowAndContinueAfterItsDuration) {
    const std::vector<TimelineEntry> entries{at(1s, PauseAction{500ms})};
    Timeline t(entries, Duration::zero(), 1);
    auto due = t.advance(1s, {});
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(signal_of(due[0]), SIGSTOP);
    EXPECT_FALSE(t.done()) << "the SIGCONT is still to come";
    EXPECT_TRUE(t.advance(1499ms, {}).empty());
    due = t.advance(1500ms, {});
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(signal_of(due[0]), SIGCONT);
    EXPECT_TRUE(due[0].resumes_pause);
    EXPECT_TRUE(t.done());
}

TEST(Timeline, JitterIsBoundedAndReproducibleFromTheSeed) {
    const std::vector<TimelineEntry> entries{at(1s, SignalAction{SIGTERM})};
    std::set<Duration::rep> seen;
    for (std::uint64_t seed = 0; seed < 200; ++seed) {
        const auto planned = Timeline(entries, 400ms, seed).scheduled().at(0).value();
        EXPECT_GE(planned, 600ms);
        EXPECT_LE(planned, 1400ms);
        EXPECT_EQ(planned, Timeline(entries, 400ms, seed).scheduled().at(0).value()) << "same seed, same moment";
        seen.insert(planned.count());
    }
    EXPECT_GT(seen.size(), 150u) << "jitter spreads the moments";
}

TEST(Timeline, JitterNeverMovesAnEntryBeforeTheStart) {
    const std::vector<TimelineEntry> entries{at(10ms, SignalAction{SIGTERM})};
    for (std::uint64_t seed = 0; seed < 50; ++seed) EXPECT_GE(Timeline(entries, 1s, seed).scheduled().at(0).value(), Duration::zero());
}

TEST(Timeline, ActionsComeInTimelineOrderWhenDueTogether) {
    const std::vector<TimelineEntry> entries{at(1s, StopLoadAction{}), at(1s, SignalAction{SIGTERM}), at(500ms, StartLoadAction{"w"})};
    Timeline t(entries, Duration::zero(), 1);
    const auto due = t.advance(2s, {});
    ASSERT_EQ(due.size(), 3u);
    EXPECT_TRUE(std::holds_alternative<StopLoadAction>(due[0].action));
    EXPECT_TRUE(std::holds_alternative<SignalAction>(due[1].action));
    EXPECT_TRUE(std::holds_alternative<StartLoadAction>(due[2].action));
}

} // namespace
} // namespace lastcall::harness

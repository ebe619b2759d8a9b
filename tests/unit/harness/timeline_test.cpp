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

namespace lastcall::harness {
namespace {

TEST(TimelineRepetition, AnEntryWithEveryAndCountFiresCountTimesEveryApart) {
    auto entry = at(1s, SignalAction{SIGHUP, SignalTarget::main, 0, SignalPurpose::reload});
    entry.every = 600ms;
    entry.count = 3;
    const std::vector<TimelineEntry> entries{entry, at(5s, SignalAction{SIGTERM})};
    Timeline t(entries, Duration::zero(), 1);
    EXPECT_TRUE(t.advance(999ms, {}).empty());
    ASSERT_EQ(t.advance(1s, {}).size(), 1u);
    EXPECT_TRUE(t.advance(1599ms, {}).empty());
    const auto second = t.advance(1600ms, {});
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].due, 1600ms);
    EXPECT_EQ(std::get<SignalAction>(second[0].action).purpose, SignalPurpose::reload);
    const auto late = t.advance(4s, {});  // a late tick fires what is due, each with its planned time
    ASSERT_EQ(late.size(), 1u);
    EXPECT_EQ(late[0].due, 2200ms);
    EXPECT_FALSE(t.done());
    EXPECT_EQ(t.advance(5s, {}).size(), 1u);
    EXPECT_TRUE(t.done());
}

TEST(TimelineRepetition, AConditionStartsEveryRepetitionFromWhenItHeld) {
    auto entry = when(Condition::Kind::after_signal, SignalAction{SIGINT}, 100ms);
    entry.every = 1s;
    entry.count = 2;
    const std::vector<TimelineEntry> entries{entry};
    Timeline t(entries, Duration::zero(), 1);
    TimelineConditions c;
    c.signal_sent = true;
    EXPECT_TRUE(t.advance(2s, c).empty());
    EXPECT_EQ(t.advance(2100ms, c).size(), 1u);
    EXPECT_TRUE(t.advance(3099ms, c).empty());
    EXPECT_EQ(t.advance(3100ms, c).size(), 1u);
    EXPECT_TRUE(t.done());
}

TEST(TimelineRepetition, JitterMovesTheWholeSeriesAndLeavesLaterEntriesAsTheyWere) {
    auto repeated = at(2s, SignalAction{SIGHUP});
    repeated.every = 500ms;
    repeated.count = 4;
    const std::vector<TimelineEntry> plain{at(2s, SignalAction{SIGHUP}), at(8s, SignalAction{SIGTERM})};
    const std::vector<TimelineEntry> series{repeated, at(8s, SignalAction{SIGTERM})};
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        EXPECT_EQ(Timeline(plain, 300ms, seed).scheduled(), Timeline(series, 300ms, seed).scheduled()) << "seed " << seed;
    }
    Timeline t(series, 300ms, 7);
    const auto first = t.scheduled().at(0).value();
    std::vector<Duration> fired;
    for (auto now = Duration::zero(); now < 7s; now += 1ms) {
        for (const auto& d : t.advance(now, {})) fired.push_back(d.due);
    }
    ASSERT_EQ(fired.size(), 4u);
    for (std::size_t k = 0; k < fired.size(); ++k) EXPECT_EQ(fired[k], first + 500ms * static_cast<int>(k));
}

TEST(TimelineRepetition, APauseIsAPauseByPurpose) {
    const std::vector<TimelineEntry> entries{at(1s, PauseAction{200ms})};
    Timeline t(entries, Duration::zero(), 1);
    const auto stop = t.advance(1s, {});
    ASSERT_EQ(stop.size(), 1u);
    EXPECT_EQ(std::get<SignalAction>(stop[0].action).purpose, SignalPurpose::pause);
    const auto cont = t.advance(1200ms, {});
    ASSERT_EQ(cont.size(), 1u);
    EXPECT_EQ(std::get<SignalAction>(cont[0].action).purpose, SignalPurpose::pause);
}

} // namespace
} // namespace lastcall::harness

// The shrinker on fake judges (deterministic, no processes): it removes everything the failure
// does not need and finds the edge of a moment by bisection.
#include "explore/shrinker.hpp"
#include "explore_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

namespace lastcall::harness::explore {
namespace {

using std::chrono::milliseconds;

bool has(const Trial& t, const std::string& name) {
    return std::any_of(t.workloads.begin(), t.workloads.end(), [&](const TrialWorkload& w) { return w.name == name; });
}

int connections_of(const Trial& t, const std::string& name) {
    for (const auto& w : t.workloads) {
        if (w.name == name) return w.connections;
    }
    return 0;
}

// Everything the generic scenario offers, signal at 250 ms, then SIGKILL.
Trial big_trial() {
    return Trial{5, {{"fast", 4, 0}, {"slow", 2, 0}, {"sse", 2, 0}}, {milliseconds(250), {}, {}},
                 SignalSequence::graceful_then_kill, SIGTERM, 0, milliseconds(600), {}, {}};
}

TEST(Shrinker, KeepsOnlyWhatTheFailureNeeds) {
    const auto s = generic_scenario();
    // Fails only when "sse" runs and the signal comes before 300 ms.
    const auto fails = [](const Trial& t) { return has(t, "sse") && !t.moment.in_flight_at_least && t.moment.at < milliseconds(300); };
    const auto result = shrink(big_trial(), s, ShrinkLimits{}, fails);
    const Trial expected{5, {{"sse", 1, 0}}, {milliseconds(100), {}, {}}, SignalSequence::graceful, SIGTERM, 0, {}, {}, {}};
    EXPECT_EQ(result.trial, expected) << describe(result.trial);
    EXPECT_FALSE(result.stopped);
    EXPECT_GT(result.accepted, 0);
    EXPECT_LT(trial_size(result.trial), trial_size(big_trial()));
}

TEST(Shrinker, FindsTheEdgeOfAMomentByBisection) {
    const auto s = generic_scenario();
    auto start = big_trial();
    start.moment.at = milliseconds(2500);
    // Fails when the signal comes at 700 ms or later with at least 3 fast connections.
    const auto fails = [](const Trial& t) { return t.moment.at >= milliseconds(700) && connections_of(t, "fast") >= 3; };
    const auto result = shrink(start, s, ShrinkLimits{}, fails);
    EXPECT_GE(result.trial.moment.at, milliseconds(700));
    EXPECT_LT(result.trial.moment.at, milliseconds(700) + ShrinkLimits{}.resolution);
    EXPECT_EQ(result.trial.workloads, (std::vector<TrialWorkload>{{"fast", 3, 0}}));
    EXPECT_EQ(result.trial.sequence, SignalSequence::graceful);
    EXPECT_TRUE(fails(result.trial));
}

TEST(Shrinker, KeepsASequenceTheFailureNeedsAndShortensItsSteps) {
    const auto s = generic_scenario();
    // Fails only when the SIGKILL comes 250 ms or more after the signal.
    const auto fails = [](const Trial& t) { return t.sequence == SignalSequence::graceful_then_kill && t.follow_up >= milliseconds(250); };
    const auto result = shrink(big_trial(), s, ShrinkLimits{}, fails);
    EXPECT_EQ(result.trial.sequence, SignalSequence::graceful_then_kill);
    EXPECT_GE(result.trial.follow_up, milliseconds(250));
    EXPECT_LT(result.trial.follow_up, milliseconds(260));
    EXPECT_EQ(result.trial.workloads.size(), 1u);
    EXPECT_EQ(result.trial.moment.at, milliseconds(100));
}

TEST(Shrinker, AnInFlightConditionShrinksToItsLowestLevelAndNoDelay) {
    const auto s = generic_scenario();
    Trial start{5, {{"fast", 4, 0}, {"slow", 2, 0}}, {{}, 5, milliseconds(400)}, SignalSequence::graceful, SIGTERM, 0, {}, {}, {}};
    // Fails when the signal waits for at least 2 in flight (and slow runs).
    const auto fails = [](const Trial& t) { return has(t, "slow") && t.moment.in_flight_at_least && *t.moment.in_flight_at_least >= 2; };
    const auto result = shrink(start, s, ShrinkLimits{}, fails);
    EXPECT_EQ(result.trial.workloads, (std::vector<TrialWorkload>{{"slow", 2, 0}}));  // two connections reach level 2
    EXPECT_EQ(result.trial.moment, (SignalMoment{{}, 2, Duration::zero()}));
}

TEST(Shrinker, NeverOffersACandidateThatCannotBeWritten) {
    const auto s = generic_scenario();
    Trial start{5, {{"fast", 4, 0}}, {{}, 3, milliseconds(100)}, SignalSequence::graceful, SIGTERM, 0, {}, {}, {}};
    int calls = 0;
    const auto fails = [&](const Trial& t) {
        ++calls;
        EXPECT_TRUE(consistent(t, s)) << describe(t);
        return true;
    };
    const auto result = shrink(start, s, ShrinkLimits{}, fails);
    EXPECT_EQ(result.trial.workloads, (std::vector<TrialWorkload>{{"fast", 1, 0}}));
    EXPECT_EQ(*result.trial.moment.in_flight_at_least, 1);
    EXPECT_EQ(result.candidates, calls);
}

TEST(Shrinker, StopsWhenTold) {
    const auto s = generic_scenario();
    int calls = 0;
    const auto fails = [&](const Trial&) { return ++calls % 2 == 0; };
    const auto result = shrink(big_trial(), s, ShrinkLimits{}, fails, [&] { return calls >= 3; });
    EXPECT_EQ(calls, 3);
    EXPECT_EQ(result.candidates, 3);
    EXPECT_TRUE(result.stopped);
    ShrinkLimits few;
    few.max_candidates = 4;
    calls = 0;
    EXPECT_EQ(shrink(big_trial(), s, few, fails).candidates, 4);
}

TEST(Shrinker, NeverDropsAWorkloadTheExpectationsNeed) {
    const auto s = load_scenario_text(R"(name: counter
target: {command: [srv]}
workloads:
  - {name: increments, request: {method: POST, path: /counter/increment}, connections: 2}
  - {name: reads, request: {path: /counter}, connections: 2}
timeline:
  - {when: exited, restart_target: true}
expect:
  acked_writes: {workload: increments, model: counter, read: {path: /counter, pointer: /value}}
)",
                                      "counter.yaml");
    Trial start{5, {{"increments", 2, 0}, {"reads", 2, 0}}, {milliseconds(900), {}, {}}, SignalSequence::graceful, SIGTERM, 0, {}, {}, {0}};
    const auto result = shrink(start, s, ShrinkLimits{}, [](const Trial& t) { return has(t, "reads"); });
    EXPECT_EQ(result.trial.workloads, (std::vector<TrialWorkload>{{"increments", 1, 0}, {"reads", 1, 0}}));
    EXPECT_EQ(result.trial.kept_entries, std::vector<std::size_t>{0});  // acked_writes reads back after the restart
}

TEST(Shrinker, DropsTheSecondReloadAndMovesTheOneTheFailureNeedsEarlier) {
    const auto s = prefork_scenario();
    // Fails whenever a reload runs at or after 700 ms (the gap it leaves is what fails).
    const auto fails = [](const Trial& t) {
        return std::any_of(t.reloads.begin(), t.reloads.end(), [](Duration at) { return at >= milliseconds(700); });
    };
    const Trial big{5, {{"fast", 2, 0}, {"slow", 4, 0}}, {milliseconds(9000), {}, {}}, SignalSequence::graceful, SIGTERM, 0, {}, {}, {},
                    {milliseconds(1200), milliseconds(2500)}};
    ASSERT_TRUE(consistent(big, s));
    const auto result = shrink(big, s, ShrinkLimits{}, fails);
    ASSERT_EQ(result.trial.reloads.size(), 1u) << describe(result.trial);
    EXPECT_GE(result.trial.reloads[0], milliseconds(700));
    EXPECT_LE(result.trial.reloads[0], milliseconds(700) + ShrinkLimits{}.resolution);
    EXPECT_EQ(result.trial.moment.at, result.trial.reloads[0] + reload_settle) << "the signal moves up behind the reload";
    EXPECT_EQ(result.trial.workloads.size(), 1u);
    EXPECT_LT(trial_size(result.trial), trial_size(big));
}

TEST(Shrinker, TriesTheSimplerShapeFirst) {
    const auto shapes = generic_shapes();
    const auto prefork = shape_index(shapes, "prefork");
    auto start = generate_trial(shapes, prefork, ExploreBounds{}, 3);
    start.workloads = {{"fast", 2, 0}, {"slow", 2, 0}};
    start.reloads.clear();
    start.moment = SignalMoment{milliseconds(900), {}, {}};
    ASSERT_TRUE(consistent(start, shapes[prefork].scenario));
    // Fails whenever "slow" runs: --workers is not needed, and the first candidate says so.
    std::vector<Trial> judged;
    const auto fails = [&](const Trial& t) {
        judged.push_back(t);
        return std::any_of(t.workloads.begin(), t.workloads.end(), [](const TrialWorkload& w) { return w.name == "slow"; });
    };
    const auto result = shrink(start, shapes, ShrinkLimits{}, fails);
    ASSERT_FALSE(judged.empty());
    EXPECT_EQ(judged.front().shape, 0u) << describe(judged.front());
    EXPECT_EQ(result.trial.shape, 0u);
    EXPECT_EQ(result.trial.shape_name, "");
    EXPECT_TRUE(result.trial.kept_entries.empty()) << "the prefork shape's kill_if_alive went with it";
    EXPECT_LT(trial_size(result.trial), trial_size(start));
}

TEST(Shrinker, KeepsTheShapeTheFailureNeedsAndWhatThatShapeNeeds) {
    const auto shapes = generic_shapes();
    const auto short_grace = shape_index(shapes, "prefork-short-grace");
    auto start = generate_trial(shapes, short_grace, ExploreBounds{}, 5);
    start.workloads = {{"fast", 3, 0}, {"outlasting", 2, 0}};
    start.moment = SignalMoment{milliseconds(700), {}, {}};
    // Fails only in this shape with an outlasting request (what a master that never kills shows).
    const auto fails = [&](const Trial& t) {
        return t.shape == short_grace &&
               std::any_of(t.workloads.begin(), t.workloads.end(), [](const TrialWorkload& w) { return w.name == "outlasting"; });
    };
    const auto result = shrink(start, shapes, ShrinkLimits{}, fails);
    EXPECT_EQ(result.trial.shape, short_grace);
    ASSERT_EQ(result.trial.workloads.size(), 1u) << describe(result.trial);
    EXPECT_EQ(result.trial.workloads[0], (TrialWorkload{"outlasting", 1, 0}));
    // Moved to the durable shape, a trial gets its increments (acked_writes needs them) and its restart.
    const auto durable = reshaped(result.trial, shapes, shape_index(shapes, "durable"));
    EXPECT_EQ(durable.workloads, (std::vector<TrialWorkload>{{"increments", 1, 0}}));
    EXPECT_EQ(durable.kept_entries, (std::vector<std::size_t>{0, 1}));
}

TEST(Shrinker, AReloadsFailureShrinksToAReloadWithNoShutdownAtAll) {
    const auto s = prefork_scenario();
    const Trial start{5, {{"fast", 2, 0}, {"slow", 3, 0}}, {milliseconds(6200), {}, {}}, SignalSequence::graceful_then_kill, SIGTERM, 0, milliseconds(300),
                      {}, own_entries(s), {milliseconds(900), milliseconds(1800)}};
    ASSERT_TRUE(consistent(start, s));
    // Fails whenever the target is reloaded (a gap in the reload itself).
    const auto fails = [](const Trial& t) { return !t.reloads.empty(); };
    const auto result = shrink(start, s, ShrinkLimits{}, fails);
    EXPECT_EQ(result.trial.sequence, SignalSequence::reload_only) << describe(result.trial);
    EXPECT_EQ(result.trial.reloads, std::vector<Duration>{milliseconds(100)});
    EXPECT_TRUE(result.trial.kept_entries.empty());
    EXPECT_EQ(result.trial.workloads.size(), 1u);
    EXPECT_EQ(result.trial.moment.at, milliseconds(100) + reload_settle);
}

} // namespace
} // namespace lastcall::harness::explore

// The trial generator: seeded (a seed is a trial), within the scenario's bounds or the flags',
// every choice it can make is made for some seed, and every trial can be written as a scenario.
#include "explore/trial_generator.hpp"
#include "explore_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <set>

namespace lastcall::harness::explore {
namespace {

using std::chrono::milliseconds;

TEST(TrialGenerator, TheSameSeedGivesTheSameTrial) {
    const auto s = generic_scenario();
    const ExploreBounds bounds;
    for (std::uint64_t seed = 0; seed < 20; ++seed) EXPECT_EQ(generate_trial(s, bounds, seed), generate_trial(s, bounds, seed));
    std::set<std::string> described;
    for (std::uint64_t seed = 0; seed < 20; ++seed) described.insert(describe(generate_trial(s, bounds, seed)));
    EXPECT_GE(described.size(), 18u);
}

TEST(TrialGenerator, StaysWithinTheScenariosBounds) {
    const auto s = generic_scenario();
    ExploreBounds bounds;
    const auto latest = latest_moment(s, bounds);
    EXPECT_EQ(latest, std::chrono::duration_cast<Duration>(s.max_duration / 3));
    for (std::uint64_t seed = 0; seed < 500; ++seed) {
        const auto t = generate_trial(s, bounds, seed);
        ASSERT_TRUE(consistent(t, s)) << describe(t);
        EXPECT_EQ(t.graceful_signal, SIGTERM);
        for (const auto& w : t.workloads) {
            const auto& base = *std::find_if(s.workloads.begin(), s.workloads.end(), [&](const Workload& b) { return b.name == w.name; });
            EXPECT_GE(w.connections, 1);
            EXPECT_LE(w.connections, base.connections) << w.name;
        }
        if (t.moment.in_flight_at_least) {
            EXPECT_LE(t.moment.delay, milliseconds(500));
        } else {
            EXPECT_GE(t.moment.at, bounds.earliest);
            EXPECT_LE(t.moment.at, latest);
        }
        EXPECT_LE(t.follow_up, bounds.longest_follow_up);
        EXPECT_LE(t.pause, bounds.longest_pause);
        EXPECT_NE(t.sequence, SignalSequence::fast) << "no fast signal was named";
    }
}

TEST(TrialGenerator, EveryChoiceIsMadeForSomeSeed) {
    const auto s = generic_scenario();
    ExploreBounds bounds;
    bounds.fast_signal = SIGQUIT;
    std::set<SignalSequence> sequences;
    std::set<std::size_t> mix_sizes;
    bool on_condition = false, fast_quit = false;
    for (std::uint64_t seed = 0; seed < 300; ++seed) {
        const auto t = generate_trial(s, bounds, seed);
        sequences.insert(t.sequence);
        mix_sizes.insert(t.workloads.size());
        on_condition |= t.moment.in_flight_at_least.has_value();
        fast_quit |= t.sequence == SignalSequence::fast && t.fast_signal == SIGQUIT;
    }
    EXPECT_EQ(sequences.size(), 5u);
    EXPECT_EQ(mix_sizes, (std::set<std::size_t>{1, 2, 3, 4}));  // generic.yaml has four workloads
    EXPECT_TRUE(on_condition);
    EXPECT_TRUE(fast_quit);
}

TEST(TrialGenerator, FlagsOverrideTheScenariosMaxima) {
    const auto s = generic_scenario();
    ExploreBounds bounds;
    bounds.max_connections = 40;
    bounds.latest = milliseconds(200);
    int above_scenario = 0;
    for (std::uint64_t seed = 0; seed < 100; ++seed) {
        const auto t = generate_trial(s, bounds, seed);
        for (const auto& w : t.workloads) {
            EXPECT_LE(w.connections, 40);
            above_scenario += w.connections > 4;
        }
        if (!t.moment.in_flight_at_least) {
            EXPECT_LE(t.moment.at, milliseconds(200));
        }
    }
    EXPECT_GT(above_scenario, 0);
}

TEST(TrialGenerator, KeepsWhatTheExpectationsNeedAndTheScenariosOwnEntries) {
    const auto s = load_scenario_text(R"(name: counter
target: {command: [srv]}
workloads:
  - {name: increments, request: {method: POST, path: /counter/increment}, connections: 2}
  - {name: reads, request: {path: /counter}, connections: 2}
timeline:
  - {at: 1s, signal: TERM}
  - {when: exited, restart_target: true}
expect:
  acked_writes: {workload: increments, model: counter, read: {path: /counter, pointer: /value}}
)",
                                      "counter.yaml");
    EXPECT_EQ(pinned_workloads(s), std::vector<std::string>{"increments"});
    EXPECT_EQ(own_entries(s), std::vector<std::size_t>{1});
    for (std::uint64_t seed = 0; seed < 100; ++seed) {
        const auto t = generate_trial(s, ExploreBounds{}, seed);
        EXPECT_EQ(t.workloads.front().name, "increments");
        EXPECT_EQ(t.kept_entries, std::vector<std::size_t>{1});
    }
}

TEST(TrialGenerator, ReloadsAMasterWithWorkersOnceOrTwiceWellBeforeTheSignal) {
    const auto s = prefork_scenario();
    const ExploreBounds bounds;
    std::set<std::size_t> counts;
    for (std::uint64_t seed = 0; seed < 300; ++seed) {
        const auto t = generate_trial(s, bounds, seed);
        ASSERT_TRUE(consistent(t, s)) << describe(t);
        counts.insert(t.reloads.size());
        if (t.reloads.empty()) continue;
        EXPECT_FALSE(t.moment.in_flight_at_least) << describe(t);
        EXPECT_GE(t.reloads.front(), bounds.earliest);
        EXPECT_TRUE(std::is_sorted(t.reloads.begin(), t.reloads.end()));
        EXPECT_GE(t.moment.at, t.reloads.back() + reload_settle) << describe(t);
        EXPECT_NE(describe(t).find("reload at"), std::string::npos);
    }
    EXPECT_EQ(counts, (std::set<std::size_t>{0, 1, 2}));
}

TEST(TrialGenerator, NeverReloadsATargetWithoutWorkers) {
    const auto s = generic_scenario();
    for (std::uint64_t seed = 0; seed < 300; ++seed) EXPECT_TRUE(generate_trial(s, ExploreBounds{}, seed).reloads.empty());
}

TEST(TrialGenerator, AReloadTooCloseToTheSignalOrOutOfOrderIsNotConsistent) {
    const auto s = prefork_scenario();
    Trial t{7, {{"fast", 1, 0}}, {milliseconds(5000), {}, {}}, SignalSequence::graceful, SIGTERM, 0, {}, {}, {}, {milliseconds(500)}};
    EXPECT_TRUE(consistent(t, s));
    t.reloads = {milliseconds(1500)};  // 3.5 s before the signal: the reload may still be under way
    EXPECT_FALSE(consistent(t, s));
    t.reloads = {milliseconds(800), milliseconds(300)};
    EXPECT_FALSE(consistent(t, s));
    t.reloads = {milliseconds(500)};
    t.moment = SignalMoment{Duration::zero(), 1, milliseconds(100)};  // an in-flight level can come before the reload settled
    EXPECT_FALSE(consistent(t, s));
}

TEST(TrialGenerator, ATrialOfAShapeIsConsistentWithItAndRunsItsOwnWorkloads) {
    const auto shapes = generic_shapes();
    const ExploreBounds bounds;
    for (std::size_t shape = 0; shape < shapes.size(); ++shape) {
        const auto& s = shapes[shape];
        bool reloaded = false;
        for (std::uint64_t seed = 0; seed < 100; ++seed) {
            const auto t = generate_trial(shapes, shape, bounds, seed);
            ASSERT_TRUE(consistent(t, s.scenario)) << describe(t);
            EXPECT_EQ(t.shape, shape);
            EXPECT_EQ(t.shape_name, s.name);
            EXPECT_EQ(describe(t).starts_with("[" + s.name + "] "), !s.name.empty()) << describe(t);
            for (const auto& own : s.own_workloads) {
                EXPECT_TRUE(std::any_of(t.workloads.begin(), t.workloads.end(), [&](const TrialWorkload& w) { return w.name == own; }))
                    << s.name << ": " << describe(t);
            }
            if (t.sequence != SignalSequence::reload_only) EXPECT_EQ(t.kept_entries, own_entries(s.scenario));
            reloaded |= !t.reloads.empty();
        }
        EXPECT_EQ(reloaded, s.name == "prefork") << "only the shape with workers and workers_drained reloads: " << s.name;
    }
    // Shape 0 is the scenario as written: the same trials as before shapes existed.
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        auto t = generate_trial(shapes, 0, bounds, seed);
        EXPECT_EQ(t, generate_trial(generic_scenario(), bounds, seed));
    }
}

TEST(TrialGenerator, AWorkloadTheShapeDoesNotHaveIsNotConsistent) {
    const auto shapes = generic_shapes();
    const auto resume = shape_index(shapes, "resume");
    auto t = generate_trial(shapes, resume, ExploreBounds{}, 1);
    EXPECT_TRUE(consistent(t, shapes[resume].scenario));
    t.workloads.push_back(TrialWorkload{"fast", 1, 0});  // left out by the resume shape
    EXPECT_FALSE(consistent(t, shapes[resume].scenario));
}

TEST(TrialGenerator, SomeReloadTrialsSendNoShutdownSignalAtAll) {
    const auto s = prefork_scenario();
    int reload_only = 0, reloads = 0;
    for (std::uint64_t seed = 0; seed < 300; ++seed) {
        const auto t = generate_trial(s, ExploreBounds{}, seed);
        reloads += !t.reloads.empty();
        if (t.sequence != SignalSequence::reload_only) continue;
        ++reload_only;
        ASSERT_TRUE(consistent(t, s)) << describe(t);
        EXPECT_FALSE(t.reloads.empty());
        EXPECT_TRUE(t.kept_entries.empty()) << "the shape's kill_if_alive waits for a shutdown signal: " << describe(t);
        EXPECT_GE(t.moment.at, t.reloads.back() + reload_settle);
        EXPECT_NE(describe(t).find("no shutdown signal"), std::string::npos) << describe(t);
    }
    EXPECT_GT(reload_only, 10);
    EXPECT_LT(reload_only, reloads);
}

TEST(TrialGenerator, AReloadOnlyTrialNeedsAReloadNoStreamAndNoEntryWaitingForASignal) {
    const auto s = prefork_scenario();
    Trial t{7, {{"fast", 1, 0}}, {milliseconds(5000), {}, {}}, SignalSequence::reload_only, SIGTERM, 0, {}, {}, {}, {milliseconds(500)}};
    EXPECT_TRUE(consistent(t, s));
    t.kept_entries = own_entries(s);  // when: signal_sent, kill_if_alive
    EXPECT_FALSE(consistent(t, s));
    t.kept_entries.clear();
    t.workloads.push_back(TrialWorkload{"sse", 1, 0});  // an open stream outlives stop_load: the run would end killed at max_duration
    EXPECT_FALSE(consistent(t, s));
    t.workloads.pop_back();
    t.reloads.clear();
    EXPECT_FALSE(consistent(t, s));
}

TEST(TrialGenerator, AReloadingTrialOfStreamsAloneIsNotConsistent) {
    // zero_downtime needs a completed request after the reload; an endless stream never completes.
    const auto s = prefork_scenario();
    Trial t{7, {{"sse", 1, 0}}, {milliseconds(5000), {}, {}}, SignalSequence::graceful, SIGTERM, 0, {}, {}, {}, {milliseconds(500)}};
    EXPECT_FALSE(consistent(t, s));
    t.workloads.push_back(TrialWorkload{"idle", 1, 0});  // a request every 5 s: maybe none between the reload and the signal
    EXPECT_FALSE(consistent(t, s));
    t.workloads.push_back(TrialWorkload{"fast", 1, 0});
    EXPECT_TRUE(consistent(t, s));
    for (std::uint64_t seed = 0; seed < 300; ++seed) {
        const auto g = generate_trial(s, ExploreBounds{}, seed);
        EXPECT_TRUE(consistent(g, s)) << describe(g);
    }
}

TEST(TrialGenerator, HalfTheTrialsOfADurableShapeEndInAKill) {
    // Only a SIGKILL tests durability (ack-before-durable loses acknowledged increments to nothing
    // else); a shape without acked_writes keeps one sequence in five.
    const auto shapes = generic_shapes();
    ExploreBounds bounds;
    bounds.fast_signal = SIGQUIT;
    const auto kill_share = [&](std::size_t shape, std::set<SignalSequence>& seen) {
        int kills = 0;
        for (std::uint64_t seed = 0; seed < 1000; ++seed) {
            const auto t = generate_trial(shapes, shape, bounds, seed);
            seen.insert(t.sequence);
            kills += t.sequence == SignalSequence::graceful_then_kill;
        }
        return kills / 1000.0;
    };
    std::set<SignalSequence> durable_seen, written_seen;
    const auto durable = kill_share(shape_index(shapes, "durable"), durable_seen);
    EXPECT_GT(durable, durable_kill_share - 0.05);
    EXPECT_LT(durable, durable_kill_share + 0.05);
    EXPECT_EQ(durable_seen.size(), 5U) << "the other sequences are still drawn";
    const auto written = kill_share(0, written_seen);
    EXPECT_GT(written, 0.15);
    EXPECT_LT(written, 0.25);
}

} // namespace
} // namespace lastcall::harness::explore

// The trial writer: what it writes loads as an ordinary scenario and holds exactly the trial
// (round trip: write, load, compare), with expect: adapted to the signals the trial sends.
#include "explore/trial_generator.hpp"
#include "explore/trial_yaml.hpp"
#include "explore_fixture.hpp"
#include "signals.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace lastcall::harness::explore {
namespace {

using std::chrono::milliseconds;

TrialFile file_for(const std::string& name) { return TrialFile{name, "a trial", {"found by a test"}, {"--fault", "no-drain"}}; }

Scenario write_and_load(const Trial& t, const Scenario& s, const std::string& text) {
    return load_scenario_text(trial_scenario_yaml(text, s, t, file_for("explore-generic-t1")), "trial.yaml");
}

const SignalAction& signal_of(const TimelineEntry& e) { return std::get<SignalAction>(e.action); }

TEST(TrialYaml, EveryGeneratedTrialLoadsBackAsItself) {
    const auto text = generic_text();
    const auto s = generic_scenario();
    ExploreBounds bounds;
    bounds.fast_signal = SIGQUIT;
    for (std::uint64_t seed = 0; seed < 200; ++seed) {
        const auto t = generate_trial(s, bounds, seed);
        const auto back = write_and_load(t, s, text);
        ASSERT_EQ(back.workloads.size(), t.workloads.size()) << describe(t);
        for (std::size_t i = 0; i < t.workloads.size(); ++i) {
            EXPECT_EQ(back.workloads[i].name, t.workloads[i].name);
            EXPECT_EQ(back.workloads[i].connections, t.workloads[i].connections);
        }
        EXPECT_EQ(back.seed, t.seed);
        EXPECT_EQ(back.jitter, Duration::zero());
        EXPECT_EQ(back.name, "explore-generic-t1");
        EXPECT_EQ(back.target.command.back(), "no-drain");
        ASSERT_FALSE(back.timeline.empty());
        const auto& first = back.timeline[0];
        if (t.moment.in_flight_at_least) {
            ASSERT_TRUE(first.when);
            EXPECT_EQ(first.when->threshold, *t.moment.in_flight_at_least);
            EXPECT_EQ(first.delay, t.moment.delay);
        } else {
            EXPECT_EQ(first.at, t.moment.at);
        }
        EXPECT_EQ(signal_of(first).signal, t.sequence == SignalSequence::fast ? SIGQUIT : SIGTERM);
        const bool two_steps = t.sequence != SignalSequence::graceful && t.sequence != SignalSequence::fast;
        ASSERT_EQ(back.timeline.size(), two_steps ? 2u : 1u) << describe(t);
        if (two_steps) {
            EXPECT_EQ(back.timeline[1].when->kind, Condition::Kind::after_signal);
            EXPECT_EQ(back.timeline[1].delay, t.follow_up);
        }
    }
}

TEST(TrialYaml, AKillTheTrialSendsIsAnExpectedExit) {
    const auto s = generic_scenario();
    Trial t{7, {{"slow", 2, 0}}, {milliseconds(800), {}, {}}, SignalSequence::graceful_then_kill, SIGTERM, 0, milliseconds(250), {}, {}};
    const auto back = write_and_load(t, s, generic_text());
    EXPECT_TRUE(std::holds_alternative<KillIfAliveAction>(back.timeline[1].action));
    ASSERT_EQ(back.expect.exit.size(), 2u);
    EXPECT_EQ(back.expect.exit[0], (Expectations::Exit{false, 0}));
    EXPECT_EQ(back.expect.exit[1], (Expectations::Exit{true, SIGKILL}));
    EXPECT_EQ(back.expect.dropped, 0u);
    EXPECT_EQ(back.expect.off, std::vector<std::string>{"streams_clean"});  // a stream the kill cuts is not the target's fault
}

TEST(TrialYaml, AfterAFastShutdownTheDrainChecksAreOffAndTheRestStays) {
    const auto s = generic_scenario();
    Trial t{7, {{"fast", 3, 0}}, {milliseconds(800), {}, {}}, SignalSequence::graceful_twice, SIGTERM, 0, milliseconds(300), {}, {}};
    const auto back = write_and_load(t, s, generic_text());
    EXPECT_EQ(signal_of(back.timeline[1]).signal, SIGTERM);
    for (const char* check : {"dropped", "exit", "streams_clean", "close_announced", "shutdown_time", "drain_tail", "workers_drained"}) {
        EXPECT_NE(std::find(back.expect.off.begin(), back.expect.off.end(), check), back.expect.off.end()) << check;
    }
    EXPECT_EQ(back.expect.idle_close_race, Expectations::RacePolicy::tolerate);
    EXPECT_TRUE(back.expect.port_released);
    EXPECT_TRUE(back.expect.shutdown_report);
}

TEST(TrialYaml, APauseStretchesTheShutdownBound) {
    const auto s = generic_scenario();
    Trial t{7, {{"sse", 2, 0}}, {{}, 2, milliseconds(40)}, SignalSequence::pause_while_draining, SIGTERM, 0, milliseconds(100), milliseconds(250), {}};
    const auto back = write_and_load(t, s, generic_text());
    EXPECT_EQ(back.expect.shutdown_time, milliseconds(4250));
    EXPECT_EQ(std::get<PauseAction>(back.timeline[1].action).duration, milliseconds(250));
}

TEST(TrialYaml, KeepsTheScenariosOwnEntriesAsWritten) {
    const std::string text = R"(name: counter
target: {command: [srv]}
workloads:
  - {name: increments, request: {method: POST, path: /counter/increment}, connections: 2}
timeline:
  - {at: 1s, signal: TERM}
  - {when: exited, restart_target: true}
jitter: 300ms
repeat: 5
)";
    const auto s = load_scenario_text(text, "counter.yaml");
    const auto t = generate_trial(s, ExploreBounds{}, 3);
    const auto back = write_and_load(t, s, text);
    EXPECT_TRUE(std::holds_alternative<RestartTargetAction>(back.timeline.back().action));
    EXPECT_EQ(back.repeat, 1);
}

TEST(TrialYaml, ARestartWaitsUntilTheFollowUpHasFired) {
    const std::string text = R"(name: counter
target: {command: [srv]}
workloads:
  - {name: increments, request: {method: POST, path: /counter/incr}, connections: 2}
timeline:
  - {when: exited, stop_load: all}
  - {when: exited, restart_target: true}
expect:
  acked_writes: {workload: increments, model: counter, read: {path: /counter, pointer: /value}}
  streams_resumed: false
)";
    const auto s = load_scenario_text(text, "counter.yaml");
    Trial t{7, {{"increments", 2, 0}}, {milliseconds(800), {}, {}}, SignalSequence::graceful_twice, SIGTERM, 0, milliseconds(83), {}, {0, 1}};
    const auto back = write_and_load(t, s, text);
    ASSERT_EQ(back.timeline.size(), 4u);
    EXPECT_EQ(back.timeline[2].delay, milliseconds(133));  // 83 ms + 50 ms: the second TERM never reaches generation 2
    EXPECT_EQ(back.timeline[3].delay, milliseconds(133));
    EXPECT_TRUE(std::holds_alternative<RestartTargetAction>(back.timeline[3].action));
    t.sequence = SignalSequence::graceful;
    t.follow_up = {};
    EXPECT_EQ(write_and_load(t, s, text).timeline[2].delay, Duration::zero());  // nothing follows: as written
}

TEST(TrialYaml, NamesFitTheNameRule) {
    EXPECT_EQ(trial_name("explore-generic", "t12"), "explore-generic-t12");
    EXPECT_EQ(trial_name(std::string(64, 'a'), "dropped-1").size(), 64u);
}

TEST(TrialYaml, ReloadsLoadBackAsReloadsBeforeTheSignalWithZeroDowntimeExpected) {
    const auto text = prefork_text();
    const auto s = prefork_scenario();
    int with_reloads = 0;
    for (std::uint64_t seed = 0; seed < 200; ++seed) {
        const auto t = generate_trial(s, ExploreBounds{}, seed);
        const auto back = write_and_load(t, s, text);
        ASSERT_GT(back.timeline.size(), t.reloads.size()) << describe(t);
        for (std::size_t i = 0; i < t.reloads.size(); ++i) {
            const auto& reload = signal_of(back.timeline[i]);
            EXPECT_EQ(reload.purpose, SignalPurpose::reload);
            EXPECT_EQ(reload.signal, SIGHUP);
            EXPECT_EQ(back.timeline[i].at, t.reloads[i]);
        }
        const auto& first = back.timeline[t.reloads.size()];
        if (t.sequence == SignalSequence::reload_only) {
            // No shutdown signal: the load stops, and lastcall ends the target as at any run's end.
            EXPECT_TRUE(std::holds_alternative<StopLoadAction>(first.action)) << describe(t);
            EXPECT_EQ(back.timeline.size(), t.reloads.size() + 1) << "the prefork shape's kill_if_alive waits for a signal that never comes";
        } else {
            EXPECT_EQ(signal_of(first).purpose, SignalPurpose::shutdown);
        }
        if (!t.reloads.empty()) {
            ++with_reloads;
            EXPECT_EQ(first.at, t.moment.at);
            EXPECT_TRUE(back.expect.zero_downtime) << describe(t);
        } else {
            EXPECT_FALSE(back.expect.zero_downtime) << describe(t);
        }
    }
    EXPECT_GT(with_reloads, 20);
}

TEST(TrialYaml, EveryShapesTrialsLoadBackAsThatShape) {
    const auto shapes = generic_shapes();
    ExploreBounds bounds;
    bounds.fast_signal = SIGQUIT;
    for (std::size_t shape = 0; shape < shapes.size(); ++shape) {
        const auto& s = shapes[shape];
        for (std::uint64_t seed = 0; seed < 40; ++seed) {
            const auto t = generate_trial(shapes, shape, bounds, seed);
            const auto yaml = trial_scenario_yaml(s.text, s.scenario, t, file_for("explore-generic-t1"));
            EXPECT_EQ(yaml.find("explore:"), std::string::npos) << "a trial is one shape, an ordinary scenario";
            const auto back = load_scenario_text(yaml, "trial.yaml");
            ASSERT_EQ(back.workloads.size(), t.workloads.size()) << describe(t);
            for (std::size_t i = 0; i < t.workloads.size(); ++i) EXPECT_EQ(back.workloads[i].name, t.workloads[i].name);
            // The shape's command, then the --target-args.
            auto expected = s.scenario.target.command;
            expected.insert(expected.end(), {"--fault", "no-drain"});
            EXPECT_EQ(back.target.command, expected) << s.name;
            EXPECT_EQ(back.expect.acked_writes.has_value(), s.scenario.expect.acked_writes.has_value());
            EXPECT_EQ(back.expect.workers_drained.has_value() || t.sequence == SignalSequence::fast || t.sequence == SignalSequence::graceful_twice,
                      s.scenario.expect.workers_drained.has_value() || t.sequence == SignalSequence::fast ||
                          t.sequence == SignalSequence::graceful_twice)
                << describe(t);
            const bool one_step = t.sequence == SignalSequence::graceful || t.sequence == SignalSequence::fast || t.sequence == SignalSequence::reload_only;
            EXPECT_EQ(back.timeline.size(), t.reloads.size() + (one_step ? 1 : 2) +
                                                t.kept_entries.size())
                << describe(t);
        }
    }
}

} // namespace
} // namespace lastcall::harness::explore

// The master/worker parts of a scenario as the loader reads them, errors at file:line:column:
// `reload: true` (the target's reload signal to its main process, a reload by purpose),
// `every: D, count: N` on timeline entries, expect.zero_downtime and expect.workers_drained.
#include "scenario_error_of.hpp"
#include "scenario_loader.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace lastcall::harness {
namespace {

using namespace std::chrono_literals;
using testing::error_of;
using testing::minimal_head;

TEST(ReloadAction, SendsTheTargetsReloadSignalToTheMainProcess) {
    const auto s = load_scenario_text(minimal_head + "timeline:\n  - at: 1s\n    reload: true\n", "s.yaml");
    const auto& action = std::get<SignalAction>(s.timeline.at(0).action);
    EXPECT_EQ(action.signal, SIGHUP);
    EXPECT_EQ(action.to, SignalTarget::main);
    EXPECT_EQ(action.purpose, SignalPurpose::reload);
    EXPECT_EQ(s.timeline[0].description, "reload");
}

TEST(ReloadAction, TheReloadSignalIsTheTargets) {
    const auto s = load_scenario_text("name: x\ntarget: {command: [srv], reload_signal: USR2}\ntimeline:\n  - at: 1s\n    reload: true\n", "s.yaml");
    EXPECT_EQ(std::get<SignalAction>(s.timeline.at(0).action).signal, SIGUSR2);
    EXPECT_EQ(error_of("name: x\ntarget: {command: [srv], reload_signal: RELOAD}\n"),
              "2:41: unknown signal 'RELOAD' (expected a name like TERM, QUIT, WINCH or RTMIN+1, or a number from 1 to 64)");
}

TEST(ReloadAction, IsOneActionAndOnlyTrue) {
    EXPECT_EQ(error_of(minimal_head + "timeline:\n  - at: 1s\n    reload: false\n"), "5:13: reload must be true");
    EXPECT_EQ(error_of(minimal_head + "timeline:\n  - at: 1s\n    reload: true\n    signal: HUP\n"),
              "4:5: a timeline entry needs exactly one action: signal, reload, stop_load, start_load, pause, kill_if_alive or restart_target");
    EXPECT_EQ(error_of(minimal_head + "timeline:\n  - at: 1s\n    reload: true\n    to: workers\n"), "6:9: 'to' goes with 'signal'");
}

TEST(Repetition, EveryAndCountAreRead) {
    const auto s = load_scenario_text(minimal_head + "timeline:\n  - at: 1s\n    every: 600ms\n    count: 20\n    reload: true\n"
                                                     "limits: {max_duration: 30s}\n",
                                      "s.yaml");
    EXPECT_EQ(s.timeline.at(0).every, 600ms);
    EXPECT_EQ(s.timeline[0].count, 20);
    const auto plain = load_scenario_text(minimal_head + "timeline:\n  - at: 1s\n    signal: TERM\n", "s.yaml");
    EXPECT_EQ(plain.timeline.at(0).count, 1);
}

TEST(Repetition, ErrorsNameThePosition) {
    EXPECT_EQ(error_of(minimal_head + "timeline:\n  - at: 1s\n    every: 600ms\n    reload: true\n"), "5:12: 'every' and 'count' go together");
    EXPECT_EQ(error_of(minimal_head + "timeline:\n  - at: 1s\n    count: 3\n    reload: true\n"), "5:12: 'every' and 'count' go together");
    EXPECT_EQ(error_of(minimal_head + "timeline:\n  - at: 1s\n    every: 0s\n    count: 3\n    reload: true\n"),
              "5:12: every must be a duration from 1ms to 24h, like 250ms, 3s or 1m");
    EXPECT_EQ(error_of(minimal_head + "timeline:\n  - at: 1s\n    every: 1s\n    count: 0\n    reload: true\n"),
              "6:12: count must be a whole number from 1 to 10000");
    // The last firing must come before max_duration, or the series would be cut short silently.
    EXPECT_EQ(error_of(minimal_head + "timeline:\n  - at: 1s\n    every: 1s\n    count: 10\n    reload: true\nlimits: {max_duration: 10s}\n"),
              "6:12: the last of 10 firings (10s) must be before limits.max_duration (10s)");
}

Expectations expect(const std::string& lines) { return load_scenario_text(minimal_head + "expect:\n" + lines, "s.yaml").expect; }

TEST(WorkerExpectations, AreOffUnlessNamed) {
    EXPECT_FALSE(expect("  dropped: 0\n").zero_downtime);
    EXPECT_FALSE(expect("  dropped: 0\n").workers_drained);
    EXPECT_FALSE(expect("  zero_downtime: false\n").zero_downtime);
    const auto off = expect("  zero_downtime: off\n  workers_drained: off\n");
    EXPECT_EQ(off.off, (std::vector<std::string>{"zero_downtime", "workers_drained"}));
}

TEST(WorkerExpectations, ZeroDowntimeTakesTrueOrItsBounds) {
    EXPECT_EQ(expect("  zero_downtime: true\n").zero_downtime->within, 10s);
    const auto bounded = expect("  zero_downtime: {within: 2s, max_latency: 250ms}\n").zero_downtime;
    EXPECT_EQ(bounded->within, 2s);
    EXPECT_EQ(bounded->max_latency, 250ms);
    EXPECT_EQ(error_of(minimal_head + "expect:\n  zero_downtime: {within: 2s, gap: 0}\n"),
              "4:31: unknown key 'gap' in zero_downtime");
}

TEST(WorkerExpectations, WorkersDrainedTakesTrueOrItsCounts) {
    const auto plain = expect("  workers_drained: true\n").workers_drained;
    EXPECT_EQ(plain->killed, 0);
    EXPECT_EQ(plain->exit, std::vector<int>{0});
    const auto counted = expect("  workers_drained: {killed: 2, crashed: 1, exit: [0, 4]}\n").workers_drained;
    EXPECT_EQ(counted->killed, 2);
    EXPECT_EQ(counted->crashed, 1);
    EXPECT_EQ(counted->exit, (std::vector<int>{0, 4}));
    EXPECT_EQ(expect("  workers_drained: {exit: 4}\n").workers_drained->exit, std::vector<int>{4});
    EXPECT_EQ(error_of(minimal_head + "expect:\n  workers_drained: {exit: [0, 256]}\n"),
              "4:31: workers_drained.exit must be a whole number from 0 to 255");
    EXPECT_EQ(error_of(minimal_head + "expect:\n  workers_drained: {killed: -1}\n"), "4:29: workers_drained.killed must be a whole number, 0 or more");
}

} // namespace
} // namespace lastcall::harness

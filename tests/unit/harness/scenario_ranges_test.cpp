// Issue 7, item 11: every number in a scenario has a range, checked when it is loaded, with the
// position and the range in the message; cross-field rules refuse what could never happen.
#include "scenario_error_of.hpp"

#include <gtest/gtest.h>

namespace lastcall::harness {
namespace {

using namespace std::chrono_literals;
using testing::error_of;
using testing::minimal_head;

const std::string open_workload = minimal_head + "workloads:\n  - name: a\n    mode: open\n    rate: ";  // value at 6:11
const std::string rate_message = "6:11: rate must look like 200/s, 30/m or 1/h, from 1/h to 1000000/s";

TEST(ScenarioRanges, RatesMustBeFiniteAndInRange) {
    // Seen: nan/s ran 0 requests and passed; inf/s and 1e-300/s passed validate and broke run.
    for (const char* rate : {"nan/s", "inf/s", "NaN/s", "infinity/s", "1e-300/s", "1e300/s", "0.5/h", "1000001/s", "0/s", "-1/s", "1e3/s"}) {
        EXPECT_EQ(error_of(open_workload + rate + "\n"), rate_message) << rate;
    }
    for (const char* rate : {"1/h", "1000000/s", "60000000/m", "0.5/s"}) EXPECT_EQ(error_of(open_workload + rate + "\n"), "no error") << rate;
}

TEST(ScenarioRanges, DurationsMustBeFiniteAndFitTheClock) {
    const auto think = [](const std::string& value) { return error_of(minimal_head + "workloads:\n  - name: a\n    think: " + value + "\n"); };
    const std::string think_message = "5:12: think must be a duration from 0s to 1h, like 250ms, 3s or 1m";
    for (const char* value : {"1e300s", "nans", "infs", "99999999999999h", "61m", "-1s", "1e3ms"}) EXPECT_EQ(think(value), think_message) << value;
    EXPECT_EQ(think("1h"), "no error");
    EXPECT_EQ(think("0"), "no error");
    EXPECT_EQ(error_of(minimal_head + "limits: {max_duration: 99999999999999h}\n"),
              "3:24: limits.max_duration must be a duration from 100ms to 24h, like 250ms, 3s or 1m");
}

// Each duration field with a value just outside its range: position, field and range.
TEST(ScenarioRanges, EveryDurationFieldHasItsRange) {
    const std::string workload = minimal_head + "workloads:\n  - name: a\n    ";  // a key at 5:5
    const std::pair<std::string, std::string> cases[] = {
        {minimal_head + "limits: {max_duration: 50ms}\n", "3:24: limits.max_duration must be a duration from 100ms to 24h"},
        {minimal_head + "limits: {max_duration: 25h}\n", "3:24: limits.max_duration must be a duration from 100ms to 24h"},
        {"name: x\ntarget: {command: [srv], ready: {timeout: 0s}}\n", "2:43: target.ready.timeout must be a duration from 10ms to 1h"},
        {"name: x\ntarget: {command: [srv], ready: {timeout: 2h}}\n", "2:43: target.ready.timeout must be a duration from 10ms to 1h"},
        {workload + "timeout: 0s\n", "5:14: timeout must be a duration from 1ms to 1h"},
        {workload + "start: 25h\n", "5:12: start must be a duration from 0s to 24h"},
        {workload + "stop: 0s\n", "5:11: stop must be a duration from 1ms to 24h"},
        {minimal_head + "timeline:\n  - at: 1s\n    pause: 0s\n", "5:12: pause must be a duration from 1ms to 1h"},
        {minimal_head + "timeline:\n  - at: 25h\n    kill_if_alive: true\n", "4:9: at must be a duration from 0s to 24h"},
        {minimal_head + "timeline:\n  - when: exited\n    delay: 25h\n    kill_if_alive: true\n", "5:12: delay must be a duration from 0s to 24h"},
        {minimal_head + "jitter: 2h\n", "3:9: jitter must be a duration from 0s to 1h"},
        {minimal_head + "expect: {drain_tail: 25h}\n", "3:22: drain_tail must be a duration from 0s to 24h"},
        {minimal_head + "expect: {shutdown_time: 1e9s}\n", "3:25: shutdown_time must be a duration from 0s to 24h"},
    };
    for (const auto& [text, expected] : cases) EXPECT_EQ(error_of(text), expected + ", like 250ms, 3s or 1m") << text;
}

TEST(ScenarioRanges, WholeNumbersAreDecimalAndInRange) {
    const std::string workload = minimal_head + "workloads:\n  - name: a\n    ";
    for (const char* value : {"0", "100001", "1e3", "0x10", "+5", "99999999999999999999", "2.5"}) {
        EXPECT_EQ(error_of(workload + "connections: " + value + "\n"), "5:18: connections must be a whole number from 1 to 100000") << value;
    }
    EXPECT_EQ(error_of(minimal_head + "threads: 65\n"), "3:10: threads must be a whole number from 1 to 64");
    EXPECT_EQ(error_of(minimal_head + "limits: {history_bytes: 100}\n"), "3:25: limits.history_bytes must be a whole number from 4096 to 1099511627776");
    EXPECT_EQ(load_scenario_text(minimal_head + "limits: {history_bytes: 65536}\n", "s.yaml").history_bytes, 65536u);
    EXPECT_EQ(load_scenario_text(minimal_head, "s.yaml").history_bytes, std::uint64_t{1} << 30);
    EXPECT_EQ(error_of(minimal_head + "repeat: 0\n"), "3:9: repeat must be a whole number from 1 to 10000");
    EXPECT_EQ(error_of(minimal_head + "seed: -1\n"), "3:7: seed must be a whole number, 0 or more");
    EXPECT_EQ(error_of(workload + "max_requests: 0\n"), "5:19: max_requests must be a whole number from 1 to 100000000");
    EXPECT_EQ(error_of("name: x\ntarget: {command: [srv], port: 70000}\n"), "2:32: target.port must be a whole number from 1 to 65535");
    EXPECT_EQ(error_of(minimal_head + "expect: {dropped: -1}\n"), "3:19: dropped must be a whole number, 0 or more");
    EXPECT_EQ(error_of(minimal_head + "expect: {exit: 256}\n"), "3:16: exit (a code from 0 to 255, or a signal name like TERM or SIGKILL) must be a whole number from 0 to 255");
}

TEST(ScenarioRanges, SignalToChildIsParsedWithoutThrowing) {
    // std::stoi threw std::out_of_range here, which no caller catches.
    const auto to = [](const std::string& value) {
        return error_of(minimal_head + "timeline:\n  - at: 1s\n    signal: TERM\n    to: \"" + value + "\"\n");
    };
    EXPECT_EQ(to("child 99999999999999999999"), "6:9: unknown signal target 'child 99999999999999999999' (expected target, master, group, workers, 'child N' or 'worker N')");
    EXPECT_EQ(to("child 0"), "6:9: 'child N' takes N from 1 to 4096");
    EXPECT_EQ(to("child 4097"), "6:9: 'child N' takes N from 1 to 4096");
    EXPECT_EQ(to("child 2"), "no error");
    const auto s = load_scenario_text(minimal_head + "timeline:\n  - at: 1s\n    signal: TERM\n    to: child 2\n", "s.yaml");
    EXPECT_EQ(std::get<SignalAction>(s.timeline[0].action).child_index, 2);
}

TEST(ScenarioRanges, InFlightConditionIsParsedAndMustBeReachable) {
    const std::string closed = minimal_head + "workloads:\n  - {name: a, connections: 4}\n  - {name: b, connections: 2}\ntimeline:\n  - when: ";
    const auto when = [&](const std::string& condition) { return error_of(closed + condition + "\n    signal: TERM\n"); };
    EXPECT_EQ(when("in_flight >= 6"), "no error");
    EXPECT_EQ(when("in_flight   >=   6"), "no error");
    EXPECT_EQ(when("in_flight >= 7"), "7:11: 'in_flight >= 7' can never hold: the workloads keep at most 6 requests in flight");
    EXPECT_EQ(when("in_flight >= -1"), "7:11: in_flight >= N takes N from 0 to 10000000");
    EXPECT_EQ(when("in_flight >= 99999999999999999999"),
              "7:11: unknown condition 'in_flight >= 99999999999999999999' (expected 'in_flight >= N', not_ready, exited or signal_sent)");
    // An open loop has no bound on what is in flight.
    EXPECT_EQ(error_of(minimal_head + "workloads:\n  - {name: a, mode: open, rate: 10/s}\ntimeline:\n  - when: in_flight >= 500\n    signal: TERM\n"),
              "no error");
}

TEST(ScenarioRanges, WhatCouldNeverHappenIsAnError) {
    const std::string limits = minimal_head + "limits: {max_duration: 10s}\n";
    EXPECT_EQ(error_of(limits + "workloads:\n  - name: a\n    start: 10s\n"),
              "6:12: start (10s) must be before limits.max_duration (10s): the workload would never run");
    EXPECT_EQ(error_of(limits + "workloads:\n  - name: a\n    start: 2s\n    stop: 2s\n"), "7:11: stop (2s) must be after start (2s)");
    EXPECT_EQ(error_of(limits + "workloads:\n  - name: a\n    stop: 30s\n"), "no error");  // the run ends first: harmless
    EXPECT_EQ(error_of(limits + "timeline:\n  - at: 12s\n    kill_if_alive: true\n"),
              "5:9: at (12s) must be before limits.max_duration (10s): the entry would never fire");
    EXPECT_EQ(error_of(limits + "timeline:\n  - at: 8s\n    delay: 2s\n    kill_if_alive: true\n"),
              "6:12: at + delay (10s) must be before limits.max_duration (10s): the entry would never fire");
    EXPECT_EQ(error_of(limits + "timeline:\n  - when: exited\n    delay: 1m\n    kill_if_alive: true\n"),
              "6:12: delay (1m) must be before limits.max_duration (10s): the entry would never fire");
    EXPECT_EQ(error_of(limits + "jitter: 11s\n"), "4:9: jitter (11s) must not exceed limits.max_duration (10s)");
    // limits may come last in the file: the rules follow meaning, not order.
    EXPECT_EQ(error_of(minimal_head + "timeline:\n  - at: 20s\n    kill_if_alive: true\nlimits: {max_duration: 10s}\n"),
              "4:9: at (20s) must be before limits.max_duration (10s): the entry would never fire");
    EXPECT_EQ(error_of(minimal_head + "timeline:\n  - at: 59s\n    kill_if_alive: true\n"), "no error");  // default 60s
}

} // namespace
} // namespace lastcall::harness

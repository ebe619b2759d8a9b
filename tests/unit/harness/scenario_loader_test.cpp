// Scenario files, good and bad. Bad ones must name the exact line and column and what was expected.
#include "scenario_error_of.hpp"
#include "scenario_loader.hpp"
#include "signals.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace lastcall::harness {
namespace {

using namespace std::chrono_literals;
using testing::error_of;
namespace fs = std::filesystem;

const std::string good = R"(name: demo
description: a full example
target:
  command: ["{server}", "--port", "{port}"]
  env: {A: "1"}
  ready: {http: /ready, timeout: 2s}
  shutdown_report: "{workdir}/report.json"
workloads:
  - name: slow
    request: {path: "/slow?ms=100", headers: {X-Test: "yes"}}
    connections: 3
    think: 10ms
    timeout: 5s
    client_retry: idempotent
  - name: burst
    kind: request
    mode: open
    rate: 200/s
    start: 1s
    stop: 2s
  - name: events
    kind: stream
    request: {path: /stream}
  - name: work
    kind: job
    request: {path: "/jobs?steps=3"}
    max_requests: 5
timeline:
  - at: 1500ms
    signal: TERM
  - when: in_flight >= 10
    delay: 100ms
    signal: SIGINT
    to: group
  - at: 3s
    stop_load: [burst]
  - when: exited
    restart_target: true
limits: {max_duration: 30s}
repeat: 3
jitter: 200ms
seed: 7
expect: {dropped: 0}
)";

const std::string head = testing::minimal_head;

TEST(ScenarioLoader, ReadsAFullScenario) {
    const auto s = load_scenario_text(good, "good.yaml");
    EXPECT_EQ(s.name, "demo");
    EXPECT_EQ(s.target.command.size(), 3u);
    EXPECT_EQ(s.target.ready.http_path, "/ready");
    EXPECT_EQ(s.target.ready.timeout, Duration(2s));
    ASSERT_EQ(s.workloads.size(), 4u);
    EXPECT_EQ(s.workloads[0].connections, 3);
    EXPECT_EQ(s.workloads[0].client_retry, ClientRetry::idempotent);
    EXPECT_EQ(s.workloads[0].request.headers.at("X-Test"), "yes");
    EXPECT_EQ(s.workloads[1].mode, LoadMode::open);
    EXPECT_DOUBLE_EQ(s.workloads[1].rate, 200.0);
    EXPECT_EQ(*s.workloads[1].stop, Duration(2s));
    EXPECT_EQ(s.workloads[2].kind, WorkloadKind::stream);
    EXPECT_EQ(s.workloads[3].request.method, "POST");  // jobs default to POST
    ASSERT_EQ(s.timeline.size(), 4u);
    EXPECT_EQ(*s.timeline[0].at, Duration(1500ms));
    EXPECT_EQ(std::get<SignalAction>(s.timeline[0].action).signal, SIGTERM);
    EXPECT_EQ(s.timeline[1].when->kind, Condition::Kind::in_flight_at_least);
    EXPECT_EQ(s.timeline[1].when->threshold, 10);
    EXPECT_EQ(std::get<SignalAction>(s.timeline[1].action).to, SignalTarget::group);
    EXPECT_EQ(std::get<StopLoadAction>(s.timeline[2].action).workloads, std::vector<std::string>{"burst"});
    EXPECT_TRUE(std::holds_alternative<RestartTargetAction>(s.timeline[3].action));
    EXPECT_EQ(s.max_duration, Duration(30s));
    EXPECT_EQ(s.repeat, 3);
    EXPECT_EQ(s.seed, 7u);
    EXPECT_NE(s.expect_yaml.find("dropped"), std::string::npos);
}

TEST(ScenarioLoader, UnknownKeyNamesTheNearestValidKey) {
    EXPECT_EQ(error_of(head + "workloads:\n  - name: a\n    conections: 3\n"),
              "5:5: unknown key 'conections' in a workload (did you mean 'connections'?)");
    EXPECT_EQ(error_of(head + "timline: []\n"), "3:1: unknown key 'timline' in the scenario (did you mean 'timeline'?)");
}

TEST(ScenarioLoader, WrongTypesAndBadValues) {
    EXPECT_EQ(error_of(head + "workloads:\n  - name: a\n    connections: many\n"),
              "5:18: connections must be a whole number from 1 to 100000");
    EXPECT_EQ(error_of(head + "workloads:\n  - name: a\n    think: 5\n"),
              "5:12: think must be a duration from 0s to 1h, like 250ms, 3s or 1m");
    EXPECT_EQ(error_of(head + "workloads:\n  - name: a\n    mode: open\n    rate: fast\n"),
              "6:11: rate must look like 200/s, 30/m or 1/h, from 1/h to 1000000/s");
    EXPECT_EQ(error_of("name: x\ntarget: {command: srv}\n"), "2:19: target.command must be a list of strings");
    EXPECT_EQ(error_of("- a\n- b\n"), "1:1: a scenario must be a mapping with name, target and workloads");
}

TEST(ScenarioLoader, UnknownSignal) {
    EXPECT_EQ(error_of(head + "timeline:\n  - at: 1s\n    signal: TERMINATE\n"),
              "5:13: unknown signal 'TERMINATE' (expected a name like TERM, QUIT, WINCH or RTMIN+1, or a number from 1 to 64)");
    // A number out of range is named as one (a new user read 'signal: 99 ... or a number').
    EXPECT_EQ(error_of(head + "timeline:\n  - at: 1s\n    signal: 99\n"),
              "5:13: unknown signal '99' (expected a name like TERM, QUIT, WINCH or RTMIN+1, or a number from 1 to 64)");
}

TEST(ScenarioLoader, WorkloadReferencedButNotDefined) {
    EXPECT_EQ(error_of(head + "workloads:\n  - name: a\ntimeline:\n  - at: 1s\n    stop_load: [a, b]\n"),
              "7:20: workload 'b' is referenced but not defined");
    EXPECT_EQ(error_of(head + "timeline:\n  - at: 1s\n    start_load: ghost\n"),
              "5:17: workload 'ghost' is referenced but not defined");
}

TEST(ScenarioLoader, TimelineEntriesNeedOneTimeAndOneAction) {
    EXPECT_EQ(error_of(head + "timeline:\n  - signal: TERM\n"), "4:5: a timeline entry needs exactly one of 'at' or 'when'");
    EXPECT_EQ(error_of(head + "timeline:\n  - at: 1s\n    signal: TERM\n    kill_if_alive: true\n"),
              "4:5: a timeline entry needs exactly one action: signal, reload, stop_load, start_load, pause, kill_if_alive or restart_target");
    EXPECT_EQ(error_of(head + "timeline:\n  - when: in_flight > 3\n    signal: TERM\n"),
              "4:11: unknown condition 'in_flight > 3' (expected 'in_flight >= N', not_ready, exited or signal_sent)");
}

TEST(ScenarioLoader, TargetPid1IsABooleanAndOffByDefault) {
    EXPECT_FALSE(load_scenario_text("name: x\ntarget: {command: [srv]}\n", "x.yaml").target.pid1);
    EXPECT_TRUE(load_scenario_text("name: x\ntarget: {command: [srv], pid1: true}\n", "x.yaml").target.pid1);
    EXPECT_EQ(error_of("name: x\ntarget: {command: [srv], pid1: docker}\n"), "2:32: target.pid1 must be true or false");
}

TEST(ScenarioLoader, YamlSyntaxErrorsHaveAPositionToo) {
    EXPECT_EQ(error_of("name: x\ntarget: {command: [a\n"), "3:1: YAML syntax: end of sequence flow not found");
}

// A fresh, empty directory under the test's temporary directory.
fs::path fresh_dir(const std::string& name) {
    const auto dir = fs::path(::testing::TempDir()) / ("lastcall-loader-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string load_error(const fs::path& file) {
    try {
        load_scenario_file(file);
    } catch (const ScenarioError& e) {
        return std::to_string(e.line()) + ":" + std::to_string(e.column()) + " " + e.what();
    }
    return "no error";
}

TEST(ScenarioLoader, AFileThatCannotBeReadSaysWhy) {
    // Was "nosuch.yaml:0:0: cannot read the file": a position that does not exist, and no reason.
    EXPECT_EQ(load_error("nosuch.yaml"), "0:0 nosuch.yaml: cannot read the file: No such file or directory");
    const auto dir = fresh_dir("unreadable");
    std::ofstream(dir / "big.yaml") << head << "description: " << std::string(2 << 20, 'a') << "\n";
    EXPECT_EQ(load_error(dir / "big.yaml"), "1:1 " + (dir / "big.yaml").string() + ":1:1: the file is over 1048576 bytes, the most a scenario file may be");
}

TEST(ScenarioLoader, DirectoriesExpandToTheirScenariosOrSayTheyHaveNone) {
    const auto dir = fresh_dir("listing");
    fs::create_directories(dir / "empty");
    std::ofstream(dir / "b.yaml") << head;
    std::ofstream(dir / "a.yml") << head << "timeline: [{at: 1s, signal: TERM}]\n";
    std::ofstream(dir / "notes.txt") << "not a scenario";
    // A subdirectory is not run with its parent: scenarios/demonstrations/ fail on purpose.
    fs::create_directories(dir / "demonstrations");
    std::ofstream(dir / "demonstrations" / "c.yaml") << head;
    const auto files = scenario_files({dir.string(), (dir / "empty").string(), "nosuch.yaml"});
    EXPECT_EQ(files, (std::vector<fs::path>{dir / "a.yml", dir / "b.yaml", dir / "empty", "nosuch.yaml"}));
    EXPECT_EQ(load_error(dir / "empty"), "0:0 " + (dir / "empty").string() + ": no scenario files (*.yaml, *.yml) in this directory");
    EXPECT_EQ(load_error(dir / "a.yml"), "no error");
}

// Run as written, a scenario must end (or reload) the target in its timeline; explore's scenario
// need not (explore writes the signals), nor one read for its parts alone (the readers' tests).
TEST(ScenarioLoader, AScenarioToRunMustTestAShutdownAndOneForExploreNeedNot) {
    const auto text = head + "workloads: []\n";
    const auto refused = [](const std::string& t, ScenarioUse use) {
        try {
            load_scenario_text(t, "s.yaml", {}, use);
        } catch (const ScenarioError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(refused(text, ScenarioUse::model), "no error");
    EXPECT_EQ(refused(text, ScenarioUse::explore), "no error");
    EXPECT_EQ(refused(text, ScenarioUse::run).rfind("s.yaml:1:1: the scenario has no timeline: ", 0), 0u) << refused(text, ScenarioUse::run);
    EXPECT_EQ(refused(text, ScenarioUse::validate), refused(text, ScenarioUse::run));
    EXPECT_EQ(refused(text + "explore: {}\n", ScenarioUse::validate), "no error") << "explore's scenario validates";
    EXPECT_NE(refused(text + "explore: {}\n", ScenarioUse::run).find("(a scenario for lastcall explore, which writes the signals itself"),
              std::string::npos);
    EXPECT_EQ(refused(text + "timeline: [{at: 1s, signal: QUIT}]\n", ScenarioUse::run), "no error");
}

// A new user fixed a file one error at a time: every independent error is said at once, in file
// order, each at its position. A misspelt key beside `mode: open` adds no "needs a rate" (the key
// may be it, misspelt); a workload that did not read adds no error where it is referred to (stop_load,
// acked_writes); a limits.max_duration that did not read adds none where it is compared.
TEST(ScenarioLoader, EveryIndependentErrorIsSaidInFileOrder) {
    const std::string text = R"(name: many
target:
  command: [srv]
  port: 99999
workloads:
  - name: a
    conections: 3
    mode: open
  - name: b
    timeout: forever
    think: 5 s
limits: {max_duration: 100h}
timeline:
  - at: 30h
    signal: TERMX
  - at: 2s
    stop_load: [a, zz]
expect:
  dropped: many
  exit: 500
  acked_writes: {workload: a, model: counter, read: {path: /c, pointer: /v}}
threads: 0
)";
    std::string what;
    int count = 0;
    try {
        load_scenario_text(text, "s.yaml");
    } catch (const ScenarioError& e) {
        what = e.what();
        count = e.count();
        EXPECT_EQ(e.line(), 4) << "the first error's position";
        EXPECT_EQ(e.column(), 9);
    }
    EXPECT_EQ(what, "s.yaml:4:9: target.port must be a whole number from 1 to 65535\n"
                    "s.yaml:7:5: unknown key 'conections' in a workload (did you mean 'connections'?)\n"
                    "s.yaml:10:14: timeout must be a duration from 1ms to 1h, like 250ms, 3s or 1m\n"
                    "s.yaml:11:12: think must be a duration from 0s to 1h, like 250ms, 3s or 1m\n"
                    "s.yaml:12:24: limits.max_duration must be a duration from 100ms to 24h, like 250ms, 3s or 1m\n"
                    "s.yaml:14:9: at must be a duration from 0s to 24h, like 250ms, 3s or 1m\n"
                    "s.yaml:15:13: unknown signal 'TERMX' (expected a name like TERM, QUIT, WINCH or RTMIN+1, or a number from 1 to 64)\n"
                    "s.yaml:17:20: workload 'zz' is referenced but not defined\n"
                    "s.yaml:19:12: dropped must be a whole number, 0 or more\n"
                    "s.yaml:20:9: exit (a code from 0 to 255, or a signal name like TERM or SIGKILL) must be a whole number from 0 to 255\n"
                    "s.yaml:22:10: threads must be a whole number from 1 to 64");
    EXPECT_EQ(count, 11);
}

// A second new user's trial: a misspelt key stopped the reading of its own map, so a wrong value
// beside it showed only once the key was fixed. Every unknown key is said, with its hint, and the
// rest of its map is read; a key it then misses is not said missing (`comand:` is the command,
// `sginal:` the action, misspelt), nor is the timeline said to send no signal.
TEST(ScenarioLoader, AnUnknownKeyDoesNotStopTheRestOfItsMapBeingRead) {
    const auto dir = fs::temp_directory_path() / fmt::format("lastcall-typos-{}", ::getpid());
    fs::create_directories(dir);
    const auto file = dir / "typos.yaml";
    std::ofstream(file) << R"(name: typos
target:
  comand: [srv]
  port: 99999
workloads:
  - name: a
    conections: 3
    mode: clsoed
    request: {methd: GET, path: nope}
    timeout: forever
timeline:
  - at: 1s
    sginal: TERM
    dealy: 2s
)";
    std::string what;
    try {
        load_scenario_file(file, {}, ScenarioUse::run);
    } catch (const ScenarioError& e) {
        what = e.what();
    }
    fs::remove_all(dir);
    const auto f = file.string();
    EXPECT_EQ(what, f + ":3:3: unknown key 'comand' in target (did you mean 'command'?)\n" +
                    f + ":4:9: target.port must be a whole number from 1 to 65535\n" +
                    f + ":7:5: unknown key 'conections' in a workload (did you mean 'connections'?)\n" +
                    f + ":8:11: unknown mode 'clsoed' (expected closed or open)\n" +
                    f + ":9:15: unknown key 'methd' in request (did you mean 'method'?)\n" +
                    f + ":9:33: request.path must start with / and hold no spaces or control characters (percent-encode them, like %20)\n" +
                    f + ":10:14: timeout must be a duration from 1ms to 1h, like 250ms, 3s or 1m\n" +
                    f + ":13:5: unknown key 'sginal' in a timeline entry (did you mean 'signal'?)\n" +
                    f + ":14:5: unknown key 'dealy' in a timeline entry (did you mean 'delay'?)");
}

// The same trial, in a timeline entry: the first wrong value stopped the entry (`at: soon` hid a
// wrong signal, target and purpose), and beside a misspelt `signl:` a wrong `to:` was never
// checked. At the top, a misspelt `timline:` was also said missing, and a misspelt
// `max_durration: 15s` had the message quote the default (1m) as if it were the limit meant.
TEST(ScenarioLoader, EveryWrongValueOfATimelineEntryIsSaidAtOnce) {
    const auto dir = fs::temp_directory_path() / fmt::format("lastcall-entry-{}", ::getpid());
    fs::create_directories(dir);
    const auto write = [&](const std::string& name, const std::string& text) {
        std::ofstream(dir / name) << text;
        try {
            load_scenario_file(dir / name, {}, ScenarioUse::run);
        } catch (const ScenarioError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    const std::string top = "name: t\ntarget: {command: [srv]}\nworkloads: [{name: a}]\n";
    const auto entry = write("entry.yaml", top + "timeline:\n  - at: soon\n    signal: TERMINATE\n    to: nowhere\n    purpose: bogus\n");
    const auto typo = write("typo.yaml", top + "timeline:\n  - at: 1s\n    signl: TERM\n    to: nowhere\n");
    const auto timline = write("timline.yaml", top + "timline: [{at: 1s, signal: TERM}]\n");
    const auto limits = write("limits.yaml", top + "limits: {max_durration: 15s}\ntimeline: [{at: 1s, pause: 1s}]\n");
    fs::remove_all(dir);
    const auto at = [&](const std::string& file) { return (dir / file).string() + ":"; };
    EXPECT_EQ(std::count(entry.begin(), entry.end(), '\n'), 3) << entry;
    EXPECT_NE(entry.find(at("entry.yaml") + "5:9: at must be"), std::string::npos) << entry;
    EXPECT_NE(entry.find(at("entry.yaml") + "6:13: "), std::string::npos) << entry;  // the signal
    EXPECT_NE(entry.find(at("entry.yaml") + "7:9: unknown signal target 'nowhere'"), std::string::npos) << entry;
    EXPECT_NE(entry.find(at("entry.yaml") + "8:14: unknown purpose 'bogus'"), std::string::npos) << entry;
    EXPECT_EQ(typo, at("typo.yaml") + "6:5: unknown key 'signl' in a timeline entry (did you mean 'signal'?)\n" + at("typo.yaml") +
                        "7:9: unknown signal target 'nowhere' (expected target, master, group, workers, 'child N' or 'worker N')");
    EXPECT_EQ(timline, at("timline.yaml") + "4:1: unknown key 'timline' in the scenario (did you mean 'timeline'?)");
    EXPECT_NE(limits.find("unknown key 'max_durration'"), std::string::npos) << limits;
    EXPECT_NE(limits.find("before limits.max_duration, where"), std::string::npos) << limits;  // no figure: the one meant is unknown
}

// Bounded: a file of a thousand bad workloads says the first 20 and that there may be more; a YAML
// syntax error is one error (the parser stops there).
TEST(ScenarioLoader, ErrorsAreBoundedAndASyntaxErrorIsOne) {
    std::string text = head + "timeline: [{at: 1s, signal: TERM}]\nworkloads:\n";
    for (int i = 0; i < 1000; ++i) text += fmt::format("  - {{name: w{}, connections: 0}}\n", i);
    std::string what;
    try {
        load_scenario_text(text, "s.yaml");
    } catch (const ScenarioError& e) {
        what = e.what();
        EXPECT_EQ(e.count(), 20);
    }
    EXPECT_EQ(std::count(what.begin(), what.end(), '\n'), 20) << what;
    EXPECT_EQ(what.substr(what.rfind('\n') + 1), "s.yaml: (reading stopped after these 20 errors; there may be more)");
    EXPECT_EQ(error_of("name: x\ntarget: {command: [srv]\nthreads: 0\n"), "3:1: YAML syntax: end of map flow not found");
}

// The file's SHA-256 as read (sha256sum's), before ${VAR}: `lastcall diff` tells two scenarios apart by it.
TEST(ScenarioLoader, KeepsTheSha256OfTheTextAsRead) {
    const std::string text = "name: x\ntarget: {command: [srv]}\n";
    EXPECT_EQ(load_scenario_text(text, "x.yaml").sha256, "bf94f5217cc011997acde051f24936e06e84adca668533597c54043a2c06ba73");
    EXPECT_NE(load_scenario_text(text + "# edited\n", "x.yaml").sha256, load_scenario_text(text, "x.yaml").sha256);
}

} // namespace
} // namespace lastcall::harness
